// The deterministic synthetic weights of a config (src/weights/synthetic.ts), as a parsed
// safetensors file: what the model tests load instead of a real checkpoint.
import { parseSafetensors, serializeSafetensors, type SafetensorsFile } from '../../src/io/safetensors.js';
import type { Sam2Config } from '../../src/model/config.js';
import { stateDictSpec } from '../../src/model/state-dict-spec.js';
import { synthesizeTensor } from '../../src/weights/synthetic.js';

export function syntheticWeightsFile(config: Sam2Config): SafetensorsFile {
  return parseSafetensors(
    serializeSafetensors(stateDictSpec(config).map(({ key, shape }) => ({ name: key, dtype: 'F32' as const, shape, data: synthesizeTensor(key, shape) }))),
  );
}
