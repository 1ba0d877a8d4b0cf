// Golden-fixture access for parity tests. Fixture directories are discovered under $SAM2_FIXTURES
// (default ../shared/fixtures beside the repository); nothing about a particular fixture (its
// name, shapes or values) is written into the tests, so a new directory of the same format runs
// without code changes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors, type SafetensorsFile } from '../../src/io/safetensors.js';
import { assertClose, type CompareResult, type Tolerance } from '../helpers/compare.js';
import { fixturesDir } from '../helpers/fixtures-dir.js';

export interface FixtureTensorInfo {
  dtype: string;
  shape: number[];
  layout: string;
  meaning?: string;
}

export interface FixtureJson {
  format: string;
  format_version: number;
  fixture: string;
  kind: 'image' | 'video';
  image_size: number;
  model: { base_config: string; overrides: Record<string, unknown>; config: Record<string, unknown>; derived: Record<string, any> };
  weights?: Record<string, unknown>;
  input: Record<string, any>;
  prompts: any;
  predictor_settings?: Record<string, any>;
  encode_order?: number[];
  passes?: Record<string, any>;
  memattn_banks?: Record<string, any>;
  stats?: Record<string, any>;
  tensors: Record<string, FixtureTensorInfo>;
  [k: string]: unknown;
}

export interface FixtureRef {
  name: string;
  dir: string;
  json: FixtureJson;
}

/**
 * Every fixture directory (one with a fixture.json of the golden format), optionally of one kind.
 * SAM2_PARITY_ONLY (a regular expression on directory names) narrows the set, e.g. to the micro
 * fixtures for a suite that re-runs the parity tests under other kernel variants.
 */
export function discoverFixtures(kind?: 'image' | 'video'): FixtureRef[] {
  const root = fixturesDir();
  if (!existsSync(root)) throw new Error(`fixture root ${root} does not exist (set SAM2_FIXTURES)`);
  const only = process.env.SAM2_PARITY_ONLY ? new RegExp(process.env.SAM2_PARITY_ONLY) : undefined;
  const out: FixtureRef[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || (only && !only.test(entry.name))) continue;
    const dir = join(root, entry.name);
    const jf = join(dir, 'fixture.json');
    if (!existsSync(jf)) continue;
    const json = JSON.parse(readFileSync(jf, 'utf8')) as FixtureJson;
    if (json.format !== 'sam2-golden-fixture') continue;
    if (kind && json.kind !== kind) continue;
    out.push({ name: entry.name, dir, json });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export class Fixture {
  readonly tensors: SafetensorsFile;

  constructor(readonly ref: FixtureRef) {
    this.tensors = parseSafetensors(new Uint8Array(readFileSync(join(ref.dir, 'tensors.safetensors'))));
  }

  get json(): FixtureJson {
    return this.ref.json;
  }

  get name(): string {
    return this.ref.name;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  shape(name: string): number[] {
    return this.tensors.info(name).shape;
  }

  f32(name: string): Float32Array {
    if (!this.has(name)) throw new Error(`fixture ${this.name} has no tensor ${name}`);
    return this.tensors.getFloat32(name);
  }

  i32(name: string): Int32Array {
    const d = this.tensors.get(name);
    if (!(d instanceof Int32Array)) throw new Error(`fixture ${this.name}: ${name} is not I32`);
    return d;
  }

  /** Names of tensors matching a regular expression, in file order. */
  names(re: RegExp): string[] {
    return this.tensors.keys().filter((k) => re.test(k));
  }
}

/** Channel-last [H, W, C] host data → channel-first [C, H, W] (the fixtures keep PyTorch's NCHW). */
export function hwcToChw(data: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) out[k * h * w + y * w + x] = data[(y * w + x) * c + k];
  return out;
}

export function chwToHwc(data: Float32Array, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) out[(y * w + x) * c + k] = data[k * h * w + y * w + x];
  return out;
}

/** Unpacks the fixtures' binarized masks: bit j (LSB first) of word w is pixel w*32+j. */
export function unpackMaskBits(words: Int32Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (words[i >>> 5] >>> (i & 31)) & 1;
  return out;
}

/** Crop t[..., y0:y0+c, x0:x0+c] of a channel-first [C, H, W] array. */
function cropChw(data: Float32Array, c: number, h: number, w: number, y0: number, x0: number, size: number): Float32Array {
  const out = new Float32Array(c * size * size);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) out[(k * size + y) * size + x] = data[k * h * w + (y0 + y) * w + (x0 + x)];
  return out;
}

/** Recommended tolerances of the fixtures README (float32 WebGPU vs the float32 reference). */
export const TOL = {
  encoder: { relL2: 2e-5, maxAbsRel: 1e-4 } as Tolerance,
  positional: { atol: 1e-5 } as Tolerance,
  maskLogits: { relL2: 2e-5, atol: 2e-3 } as Tolerance,
  smallHeads: { relL2: 2e-5, atol: 1e-5 } as Tolerance,
  memoryEncoder: { relL2: 2e-5, atol: 5e-4 } as Tolerance,
  memoryAttention: { relL2: 3e-5, atol: 1e-3 } as Tolerance,
  videoTeacherForced: { relL2: 3e-5, atol: 2e-3 } as Tolerance,
  videoFreeRunning: { relL2: 1e-2 } as Tolerance,
} as const;

/**
 * Compares a channel-first tensor against the fixture, which stores it whole or (large tiny maps)
 * as `name.crop_tl` / `name.crop_br`. Returns false when the fixture recorded neither.
 * `got` must be in the fixture's layout (use hwcToChw for NCHW tensors).
 */
export function compareToFixture(fx: Fixture, name: string, got: Float32Array, tol: Tolerance): CompareResult[] | false {
  if (fx.has(name)) {
    const shape = fx.shape(name);
    return [assertClose(`${fx.name}/${name}`, got, fx.f32(name), tol, shape)];
  }
  const tl = `${name}.crop_tl`;
  const br = `${name}.crop_br`;
  if (!fx.has(tl) || !fx.has(br)) return false;
  const full = fx.json.tensors[tl]?.meaning;
  const cshape = fx.shape(tl);
  const size = cshape[cshape.length - 1];
  const c = cshape[cshape.length - 3];
  const hw = got.length / c;
  const side = Math.round(Math.sqrt(hw));
  if (side * side !== hw) throw new Error(`compareToFixture ${name}: crops need a square map (got ${got.length} values, ${c} ch; ${full ?? ''})`);
  return [
    assertClose(`${fx.name}/${tl}`, cropChw(got, c, side, side, 0, 0, size), fx.f32(tl), tol, cshape),
    assertClose(`${fx.name}/${br}`, cropChw(got, c, side, side, side - size, side - size, size), fx.f32(br), tol, fx.shape(br)),
  ];
}
