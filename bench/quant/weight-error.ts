// Weight reconstruction error of each calibration-free quantization scheme, per component, on the
// matrices a precision quantizes (weight-format.ts rules, default threshold): rel-L2 = ||W' − W|| /
// ||W|| over all of them together. CPU only. The synthetic weights are uniform (no outliers), which
// understates what MSE clipping gains on trained weights, so a heavy-tailed control (Gaussian with
// 1 % outliers at 6σ, same shapes) is measured too.
//
//   npx tsx bench/quant/weight-error.ts [--arch sam2.1_hiera_t] [--image-size 512]
import { makeConfig } from '../../src/model/config.js';
import { COMPONENTS, quantOf, type Component, type WeightPrecision } from '../../src/model/precision.js';
import { stateDictSpec } from '../../src/model/state-dict-spec.js';
import { chooseMatrixFormat } from '../../src/model/weight-format.js';
import { packMatrix, unpackMatrix } from '../../src/weights/packed.js';
import { synthesizeTensor } from '../../src/weights/synthetic.js';
import { DEFAULT_MIN_QUANT_ELEMENTS } from '../../src/weights/quant.js';
import { randomValues } from '../lib/tensors.js';

const SCHEMES: WeightPrecision[] = ['int8', 'int8-mse', 'int4-g128', 'int4-g128-mse', 'int4-g64', 'int4-g64-mse', 'int4-g32', 'int4-g32-mse'];

function componentOf(key: string): Component | null {
  if (key.startsWith('image_encoder.') || /^sam_mask_decoder\.conv_s[01]\./.test(key)) return 'encoder';
  if (key.startsWith('memory_attention.')) return 'memattn';
  if (key.startsWith('memory_encoder.')) return 'memenc';
  if (/^(sam_mask_decoder|sam_prompt_encoder|obj_ptr_proj)\./.test(key)) return 'decoder';
  return null;
}

/** Keys read as matrices by the model (Linear / 1×1 conv / dense conv weights). */
function isMatrix(key: string, shape: readonly number[]): boolean {
  if (!key.endsWith('.weight') || /(_token|_tokens|_embed|point_embeddings\.\d+)\.weight$/.test(key)) return false;
  if (/dwconv|output_upscaling|mask_downsample\.weight|pe_layer/.test(key)) return false;
  return shape.length === 2 || shape.length === 4;
}

/** Heavy-tailed control with the same shape: Box-Muller Gaussian, 1 % of values ×6. */
function heavyTailed(n: number, seed: number): Float32Array {
  const u = randomValues(n, seed, 1e-7, 1);
  const v = randomValues(n, seed + 1, 0, 1);
  const o = randomValues(n, seed + 2, 0, 1);
  return Float32Array.from(u, (x, i) => Math.sqrt(-2 * Math.log(x)) * Math.cos(2 * Math.PI * v[i]) * (o[i] < 0.01 ? 6 : 1) * 0.02);
}

const args = process.argv.slice(2);
const arch = args.includes('--arch') ? args[args.indexOf('--arch') + 1] : 'sam2.1_hiera_t';
const size = args.includes('--image-size') ? Number(args[args.indexOf('--image-size') + 1]) : 512;
const config = makeConfig(arch as never, { imageSize: size } as never);

for (const source of ['synthetic (uniform)', 'heavy-tailed control'] as const) {
  const rows: string[] = [];
  for (const scheme of SCHEMES) {
    const err: Record<string, [number, number]> = {};
    for (const { key, shape } of stateDictSpec(config)) {
      const c = componentOf(key);
      if (!c || !isMatrix(key, shape)) continue;
      const r = shape[0];
      const cols = shape.slice(1).reduce((a, b) => a * b, 1);
      const choice = chooseMatrixFormat(r, cols, { dtype: 'F32', quant: null }, { weights: scheme, activations: 'f32' }, DEFAULT_MIN_QUANT_ELEMENTS);
      if (choice.format === 'f32') continue;
      const w = source === 'synthetic (uniform)' ? synthesizeTensor(key, shape) : heavyTailed(r * cols, key.length * 7919 + r);
      const back = unpackMatrix(packMatrix(w, r, cols, choice.format, { groupSize: choice.groupSize, method: quantOf(scheme)!.method }));
      let num = 0;
      let den = 0;
      for (let i = 0; i < w.length; i++) {
        num += (back[i] - w[i]) ** 2;
        den += w[i] ** 2;
      }
      for (const k of [c, 'all']) {
        const e = (err[k] ??= [0, 0]);
        e[0] += num;
        e[1] += den;
      }
    }
    const rel = (k: string) => (err[k] ? Math.sqrt(err[k][0] / err[k][1]).toExponential(2) : '–');
    rows.push(`| ${scheme} | ${rel('all')} | ${COMPONENTS.map(rel).join(' | ')} |`);
  }
  console.log(`\n${config.arch} @ ${size}, ${source}: weight rel-L2 of the quantized matrices\n`);
  console.log(`| scheme | all | ${COMPONENTS.join(' | ')} |\n|---|--:|${COMPONENTS.map(() => '--:').join('|')}|`);
  console.log(rows.join('\n'));
}
