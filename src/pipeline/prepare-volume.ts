// Volume → model-ready slices: reorient to LPS (so "axial" is really axial and slices look as
// radiologists and MedSAM2's training data show them), compute one intensity window for the whole
// volume, and hand out windowed uint8 slices along the chosen axis. Masks found on these slices
// go back to the file's own grid with toSourceLabels().

import { applyReorientation, invertReorientation, reorient, type Reorientation } from '../volume/orientation.js';
import { extractSlice, sliceShape, type Axis } from '../volume/slicing.js';
import { applyMapping, computeMapping, parseWindowSpec, type IntensityMapping, type WindowSpec } from '../volume/windowing.js';
import { labelVolumeLike, type LabelData, type Volume, type VoxelData } from '../volume/volume.js';

/** Values at or below this are taken as air in Hounsfield units, i.e. the volume is CT. */
const CT_AIR_HU = -500;

/** An intensity window and its name. */
export interface WindowChoice {
  /** How intensities map to uint8. */
  spec: WindowSpec;
  /** As given or chosen, e.g. "abdomen", "mr", "400/40". */
  name: string;
  /** Why this window was picked when the caller gave none. */
  reason?: string;
}

/**
 * Default window when the user names none: the DICOM Modality when known (CT → abdomen soft tissue
 * W400/L40, MedSAM's default; anything else → MR percentiles); for NIfTI, which has no modality,
 * a volume with values ≤ −500 (air in HU) is taken as CT, any other as MR.
 */
export function defaultWindow(volume: Volume): WindowChoice {
  const modality = volume.source?.modality?.toUpperCase();
  if (modality === 'CT') return { spec: { kind: 'ct', preset: 'abdomen' }, name: 'abdomen', reason: 'DICOM modality CT' };
  if (modality) return { spec: { kind: 'percentile' }, name: 'mr', reason: `DICOM modality ${modality}` };
  let min = Infinity;
  const d = volume.data;
  for (let i = 0; i < d.length; i++) if (d[i] < min) min = d[i];
  if (min <= CT_AIR_HU) {
    return { spec: { kind: 'ct', preset: 'abdomen' }, name: 'abdomen', reason: `minimum value ${min} looks like air in HU (CT)` };
  }
  return { spec: { kind: 'percentile' }, name: 'mr', reason: `no values below ${CT_AIR_HU} (not CT HU): MR percentiles` };
}

/** A window from its name: a CT preset, `mr`, `minmax` or `W/L` such as `400/40`. */
export function windowChoice(name: string): WindowChoice {
  return { spec: parseWindowSpec(name), name: name.trim().toLowerCase() };
}

/** A volume ready for the model: reoriented to LPS, windowed to uint8, sliced along one axis. */
export interface PreparedVolume {
  /** The volume as read (its grid is the one masks are written on). */
  source: Volume;
  /** The same voxels reoriented to LPS. */
  oriented: Volume;
  /** The reorientation from `source` to `oriented`. */
  plan: Reorientation;
  /** The slicing axis. */
  axis: Axis;
  /** Slice size and count along `axis` in the oriented grid. */
  width: number;
  /** Slice height in pixels. */
  height: number;
  /** Number of slices. */
  count: number;
  /** The window used, with its intensity mapping over this volume. */
  window: WindowChoice & { mapping: IntensityMapping };
  /** The whole oriented volume windowed to uint8. */
  windowed: Uint8Array;
  /** Windowed uint8 slice t (row-major, width × height). */
  slice(t: number): Uint8Array;
}

/**
 * Reorients a volume to LPS, windows it (default: by modality, see `defaultWindow`) and slices it
 * along `axis`; `slice(t)` feeds `Sam2Video.create`'s `loadSlice`.
 */
export function prepareVolume(volume: Volume, options: { axis: Axis; window?: WindowChoice }): PreparedVolume {
  const { volume: oriented, plan } = reorient(volume, 'LPS');
  const window = options.window ?? defaultWindow(volume);
  const mapping = computeMapping(oriented.data, window.spec);
  const windowed = applyMapping(oriented.data, mapping);
  const { width, height, count } = sliceShape(oriented.dims, options.axis);
  return {
    source: volume,
    oriented,
    plan,
    axis: options.axis,
    width,
    height,
    count,
    window: { ...window, mapping },
    windowed,
    slice: (t) => extractSlice(windowed, oriented.dims, options.axis, t),
  };
}

/** Another volume on the source's grid (e.g. its ground-truth labels), laid out like `oriented`. */
export function orientLike<T extends VoxelData>(prepared: PreparedVolume, data: T): T {
  return applyReorientation(data, prepared.plan);
}

/** A label map on the oriented grid → a label Volume on the source file's grid and geometry. */
export function toSourceLabels(prepared: PreparedVolume, labels: LabelData): Volume {
  return labelVolumeLike(prepared.source, invertReorientation(labels, prepared.plan));
}
