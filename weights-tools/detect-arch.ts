// Identifies the SAM 2 variant of a state dict from its keys and shapes, and validates it against
// the exact state_dict the config implies. Weights cannot tell the image size (it only changes
// activations) nor head counts, so the trunk is matched against the presets; fine-tunes with
// the same architecture (e.g. MedSAM2) are recognised like the originals.

import { PRESET_NAMES, makeConfig, type Sam2Config } from '../src/model/config.js';
import { checkStateDict, describeStateDictProblems, stateDictSpec } from '../src/model/state-dict-spec.js';

export class ArchitectureError extends Error {
  override name = 'ArchitectureError';
}

export interface TrunkFingerprint {
  version: '2.0' | '2.1';
  embedDim: number;
  stages: number[];
  bkgSize: number[];
  window0: number;
  hiddenDim: number;
}

export function fingerprint(shapes: ReadonlyMap<string, readonly number[]>): TrunkFingerprint {
  const need = (key: string) => {
    const s = shapes.get(key);
    if (!s) throw new ArchitectureError(`not a SAM 2 state_dict: missing key "${key}"`);
    return s;
  };
  const posEmbed = need('image_encoder.trunk.pos_embed');
  const posEmbedWindow = need('image_encoder.trunk.pos_embed_window');
  const noMemEmbed = need('no_mem_embed');
  if (posEmbed.length !== 4 || posEmbedWindow.length !== 4 || noMemEmbed.length !== 3) {
    throw new ArchitectureError(`not a SAM 2 state_dict: unexpected pos_embed/no_mem_embed ranks`);
  }
  let depth = 0;
  while (shapes.has(`image_encoder.trunk.blocks.${depth}.norm1.weight`)) depth++;
  if (depth === 0) throw new ArchitectureError('not a SAM 2 state_dict: no image_encoder.trunk.blocks.*');
  // Stage transitions are the blocks with a shortcut projection (their dim changes).
  const starts = [0];
  for (let i = 1; i < depth; i++) if (shapes.has(`image_encoder.trunk.blocks.${i}.proj.weight`)) starts.push(i);
  const stages = starts.map((s, i) => (starts[i + 1] ?? depth) - s);
  return {
    version: shapes.has('obj_ptr_tpos_proj.weight') || shapes.has('no_obj_embed_spatial') ? '2.1' : '2.0',
    embedDim: posEmbed[1],
    stages,
    bkgSize: [posEmbed[2], posEmbed[3]],
    window0: posEmbedWindow[2],
    hiddenDim: noMemEmbed[2],
  };
}

function presetFingerprint(config: Sam2Config): TrunkFingerprint {
  return {
    version: config.version,
    embedDim: config.trunk.embedDim,
    stages: config.trunk.stages,
    bkgSize: config.trunk.windowPosEmbedBkgSpatialSize,
    window0: config.trunk.windowSpec[0],
    hiddenDim: config.hiddenDim,
  };
}

export interface ResolveOptions {
  /** Force a preset (config name, checkpoint name or "micro"). */
  arch?: string;
  imageSize?: number;
}

/**
 * The config for a state dict: the given `arch`, or the preset whose trunk matches. Throws with
 * the offending keys unless the state dict matches the config's spec exactly.
 */
export function resolveConfig(shapes: ReadonlyMap<string, readonly number[]>, options: ResolveOptions = {}): Sam2Config {
  let config: Sam2Config;
  if (options.arch) {
    config = makeConfig(options.arch, { imageSize: options.imageSize });
  } else {
    const fp = fingerprint(shapes);
    const match = PRESET_NAMES.find((name) => JSON.stringify(presetFingerprint(makeConfig(name))) === JSON.stringify(fp));
    if (!match) {
      throw new ArchitectureError(
        `unknown architecture: SAM ${fp.version} trunk with embed_dim ${fp.embedDim}, stages [${fp.stages}], ` +
          `background PE ${fp.bkgSize.join('x')}, window ${fp.window0}, d_model ${fp.hiddenDim} matches no preset ` +
          `(${PRESET_NAMES.join(', ')}); pass --arch if it is one of them`,
      );
    }
    config = makeConfig(match, { imageSize: options.imageSize });
  }
  const problems = checkStateDict(stateDictSpec(config), shapes);
  if (problems.length > 0) {
    throw new ArchitectureError(`state_dict does not match ${config.arch}:\n${describeStateDictProblems(problems)}`);
  }
  return config;
}
