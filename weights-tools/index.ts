/// <reference types="@webgpu/types" preserve="true" />
// `sam2-webgpu/weights-tools` (Node only: reads and writes files): convert official / fine-tuned
// PyTorch checkpoints to safetensors, write deterministic synthetic weights, inspect a weights
// file. The same tools as the `convert`, `synth` and `inspect` verbs of the command line.
export { convertCheckpoint, type ConvertOptions, type ConvertResult } from './convert.js';
export { writeSyntheticWeights } from './synth.js';
export { formatReport, inspectFile, type InspectReport, type InspectTensor } from './inspect.js';
export type { FloatDtype, WeightsWriteResult } from './weights-writer.js';
