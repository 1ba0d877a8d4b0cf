// CPU references (float64 accumulation) for the convolution kernels. Layouts as the kernels:
// channels-last maps, PyTorch weights (Conv2d [Cout, Cin/groups, kh, kw], ConvTranspose2d [Cin, Cout, kh, kw]).
import { geluRef } from '../elementwise/elementwise.ref.js';

export interface Conv2dRefParams {
  batch: number;
  inH: number;
  inW: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  strideY: number;
  strideX: number;
  padY: number;
  padX: number;
  /** 1 or cin (depthwise, cout = cin). */
  groups: number;
  activation?: 'none' | 'gelu';
}

/** Zero-padded cross-correlation exactly as torch.nn.functional.conv2d, returned NHWC. */
export function conv2dRef(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number>, q: Conv2dRefParams): Float64Array {
  const outH = Math.floor((q.inH + 2 * q.padY - q.kh) / q.strideY) + 1;
  const outW = Math.floor((q.inW + 2 * q.padX - q.kw) / q.strideX) + 1;
  const depthwise = q.groups !== 1;
  if (depthwise && (q.groups !== q.cin || q.cout !== q.cin)) throw new Error('conv2dRef: only groups = 1 or depthwise');
  const cinG = depthwise ? 1 : q.cin;
  const out = new Float64Array(q.batch * outH * outW * q.cout);
  for (let b = 0; b < q.batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const obase = ((b * outH + oy) * outW + ox) * q.cout;
        for (let o = 0; o < q.cout; o++) {
          let acc = bias[o];
          for (let ky = 0; ky < q.kh; ky++) {
            const iy = oy * q.strideY - q.padY + ky;
            if (iy < 0 || iy >= q.inH) continue;
            for (let kx = 0; kx < q.kw; kx++) {
              const ix = ox * q.strideX - q.padX + kx;
              if (ix < 0 || ix >= q.inW) continue;
              const ibase = ((b * q.inH + iy) * q.inW + ix) * q.cin;
              if (depthwise) {
                acc += x[ibase + o] * w[(o * q.kh + ky) * q.kw + kx];
              } else {
                for (let c = 0; c < cinG; c++) acc += x[ibase + c] * w[((o * cinG + c) * q.kh + ky) * q.kw + kx];
              }
            }
          }
          out[obase + o] = q.activation === 'gelu' ? geluRef(acc) : acc;
        }
      }
    }
  }
  return out;
}

/**
 * ConvTranspose2d(k=2, s=2) on NHWC [B, H, W, Cin] → [B, 2H, 2W, Cout]:
 * out[b, 2y+a, 2x+c, o] = bias[o] + Σ_i x[b, y, x, i]·W[i, o, a, c] (+ skip, same layout as out).
 */
export function convTranspose2x2Ref(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias: ArrayLike<number>,
  batch: number,
  h: number,
  wd: number,
  cin: number,
  cout: number,
  skip?: ArrayLike<number>,
): Float64Array {
  const oh = 2 * h;
  const ow = 2 * wd;
  const out = new Float64Array(batch * oh * ow * cout);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < wd; xx++) {
        const ibase = ((b * h + y) * wd + xx) * cin;
        for (let o = 0; o < cout; o++) {
          for (let a = 0; a < 2; a++) {
            for (let c = 0; c < 2; c++) {
              let acc = bias[o];
              for (let i = 0; i < cin; i++) acc += x[ibase + i] * w[((i * cout + o) * 2 + a) * 2 + c];
              const oi = ((b * oh + 2 * y + a) * ow + 2 * xx + c) * cout + o;
              out[oi] = skip ? acc + skip[oi % skip.length] : acc;
            }
          }
        }
      }
    }
  }
  return out;
}
