/// <reference types="@webgpu/types" preserve="true" />
// `sam2-webgpu/volume`: medical volumes in memory, browser-safe. Read NIfTI (.nii, .nii.gz) and
// DICOM series from bytes, reorient to LPS, window intensities to uint8, cut and paste slices,
// write label maps back as NIfTI on the source grid, and the whole-volume segmentation pipeline
// (prepareVolume → VolumeSegmenter → toSourceLabels). File-system helpers are in `sam2-webgpu/node`.
export {
  createVolume,
  labelVolumeLike,
  voxelCount,
  voxelToWorld,
  type LabelData,
  type Mat4,
  type NiftiGeometry,
  type Vec3,
  type Volume,
  type VoxelData,
} from './volume.js';
export { readNifti, writeNifti, writeNiftiLabels, type ReadNiftiOptions, type WriteNiftiOptions } from './nifti.js';
export { groupBySeries, hasDicomMagic, parseDicomSlice, readDicomSeries, type DicomSlice, type NamedBuffer, type ReadDicomOptions, type SeriesSummary } from './dicom.js';
export { invertReorientation, reorient, type Reorientation } from './orientation.js';
export { AXES, extractSlice, insertSlice, parseAxis, sliceShape, sliceToVoxel, voxelToSlice, writeMaskSlice, type Axis, type SliceShape } from './slicing.js';
export {
  computeMapping,
  CT_PRESETS,
  parseWindowSpec,
  windowSlice,
  type CtPresetName,
  type IntensityMapping,
  type WindowSpec,
} from './windowing.js';
export type { Box, Point } from './validate.js';
export { defaultWindow, prepareVolume, toSourceLabels, windowChoice, type PreparedVolume, type WindowChoice } from '../pipeline/prepare-volume.js';
export {
  propagationLength,
  segmentVolume,
  VolumeSegmenter,
  type ObjectPrompt,
  type PropagationOptions,
  type PropagationResult,
  type SegmenterOptions,
} from '../pipeline/segment-volume.js';
