// Strategy "implicit GEMM" for dense 2-D convolution (groups = 1), channels-last:
//   out[m, n] = act(bias[n] + Σ_kk A[m, kk] · B[kk, n]),  m = (b, oy, ox), n = output channel,
//   kk = (ky, kx, c) over kh·kw·Cin, A[m, kk] = x[b, oy·sy − py + ky, ox·sx − px + kx, c] (0 in the
//   padding), B[kk, n] = w[n, c, ky, kx] (PyTorch layout, read in place).
// The (ky, kx, c) order keeps A loads contiguous: c runs along the channels-last row and, for
// consecutive kx of one ky, across neighbouring pixels. Like the tiled GEMM, a workgroup computes a
// TM-pixel × TN-channel tile: per TK-deep step its WG lanes copy the A and B tiles into workgroup
// memory (im2col happens in that copy, never in global memory), then each lane accumulates RM × 4
// outputs. Per-pixel input origins are computed once per workgroup. Any size, padding and stride.
import type { DType } from '../../runtime/tensor.js';
import { cfgConsts, type KernelConfig } from '../registry.js';
import { ERF_GELU, header } from '../wgsl.js';

const IGEMM_PARAMS = /* wgsl */ `
struct Params {
  in_h: u32, in_w: u32, cin: u32, out_h: u32,
  out_w: u32, cout: u32, kh: u32, kw: u32,
  stride_y: u32, stride_x: u32, pad_y: u32, pad_x: u32,
  m: u32, k: u32, act: u32, _p0: u32,
  q_scale_off: u32, q_group: u32, _p1: u32, _p2: u32, // q_*: packed-weight seam only
}`;

/** The float weight binding; packed weights replace it with weightSeam() (same `w_at`). */
const FLOAT_WEIGHT = /* wgsl */ `
@group(0) @binding(1) var<storage, read> w: array<T>;
fn w_at(i: u32) -> f32 { return f32(w[i]); }`;

/**
 * Weights are read through `w_at(i)` (i = flat index of [Cout, Cin·kh·kw], PyTorch order): binding 1
 * is the float weight, or `weightDecl` (a packed weight's seam, packed-weight.wgsl.ts).
 */
export function igemmSource(dtype: DType, cfg: KernelConfig, rm: number, weightDecl: string = FLOAT_WEIGHT): string {
  return /* wgsl */ `${header(dtype)}
${IGEMM_PARAMS}
@group(0) @binding(0) var<storage, read> x: array<T>;
${weightDecl}
@group(0) @binding(2) var<storage, read> bias: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<uniform> p: Params;
${cfgConsts({ ...cfg, RM: rm })}
const KQ: u32 = TK / 4u;
const NQ: u32 = TN / 4u;
const AS: u32 = KQ + 1u;
var<workgroup> a_tile: array<vec4<f32>, TM * AS>;   // [pixel][kq]
var<workgroup> b_tile: array<vec4<f32>, TK * NQ>;   // [kk][nq]
var<workgroup> pix_iy: array<i32, TM>;              // top-left input row of each pixel's window
var<workgroup> pix_ix: array<i32, TM>;
var<workgroup> pix_base: array<u32, TM>;            // element offset of its image (b · in_h · in_w · cin)
${ERF_GELU}

// A[m, kk] for the tile's pixel slot r: zero in the padding and past K.
fn load_a(r: u32, kk: u32) -> f32 {
  if (kk >= p.k) { return 0.0; }
  let kwc = p.kw * p.cin;
  let ky = kk / kwc;
  let rest = kk % kwc;
  let iy = pix_iy[r] + i32(ky);
  let ix = pix_ix[r] + i32(rest / p.cin);
  if (iy < 0 || ix < 0 || iy >= i32(p.in_h) || ix >= i32(p.in_w)) { return 0.0; }
  return f32(x[pix_base[r] + (u32(iy) * p.in_w + u32(ix)) * p.cin + rest % p.cin]);
}

// Weight-load seam: B[kk, n] = w[n, c, ky, kx] (zero past K or Cout).
fn load_w(kk: u32, n: u32) -> f32 {
  if (kk >= p.k || n >= p.cout) { return 0.0; }
  let kwc = p.kw * p.cin;
  let ky = kk / kwc;
  let rest = kk % kwc;
  return w_at(((n * p.cin + rest % p.cin) * p.kh + ky) * p.kw + rest / p.cin);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  // Pixel tiles along y (folded over z past 65 535), channel tiles along x.
  let m0 = (wid.y + wid.z * nwg.y) * TM;
  if (m0 >= p.m) { return; }
  let n0 = wid.x * TN;
  for (var r = lid; r < TM; r += WG) {
    let m = min(m0 + r, p.m - 1u);   // pixels past the end read the last one and are not stored
    let ox = m % p.out_w;
    let t = m / p.out_w;
    pix_iy[r] = i32((t % p.out_h) * p.stride_y) - i32(p.pad_y);
    pix_ix[r] = i32(ox * p.stride_x) - i32(p.pad_x);
    pix_base[r] = (t / p.out_h) * p.in_h * p.in_w * p.cin;
  }
  workgroupBarrier();
  let tx = lid % NQ;
  let ty = lid / NQ;

  var acc: array<vec4<f32>, RM>;
  for (var k0 = 0u; k0 < p.k; k0 += TK) {
    for (var e = lid; e < TM * TK; e += WG) {
      let r = e / TK;
      let kk = e % TK;
      a_tile[r * AS + kk / 4u][kk % 4u] = load_a(r, k0 + kk);
    }
    for (var e = lid; e < TK * TN; e += WG) {
      let n = e / TK;
      let kk = e % TK;
      b_tile[kk * NQ + n / 4u][n % 4u] = load_w(k0 + kk, n0 + n);
    }
    workgroupBarrier();
    for (var kq = 0u; kq < KQ; kq++) {
      let b0 = b_tile[(4u * kq) * NQ + tx];
      let b1 = b_tile[(4u * kq + 1u) * NQ + tx];
      let b2 = b_tile[(4u * kq + 2u) * NQ + tx];
      let b3 = b_tile[(4u * kq + 3u) * NQ + tx];
      for (var i = 0u; i < RM; i++) {
        let av = a_tile[(ty * RM + i) * AS + kq];
        acc[i] += av.x * b0 + av.y * b1 + av.z * b2 + av.w * b3;
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < RM; i++) {
    let m = m0 + ty * RM + i;
    if (m >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + 4u * tx + j;
      if (n < p.cout) {
        var v = acc[i][j] + f32(bias[n]);
        if (p.act == 1u) { v = gelu_erf(v); }
        out[m * p.cout + n] = T(v);
      }
    }
  }
}
`;
}
