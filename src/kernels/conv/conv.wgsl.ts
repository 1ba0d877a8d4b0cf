// Convolution kernels on channels-last maps, weights in PyTorch layout.
// Upstream users: Hiera PatchEmbed (hieradet.py / backbones/utils.py), MaskDownSampler and CXBlock
// (memory_encoder.py), PromptEncoder.mask_downscaling and SAM2Base.mask_downsample, and the
// MaskDecoder output_upscaling ConvTranspose2d (sam/mask_decoder.py).
//
// Strategy (no shared memory: barriers are very slow on the software adapters):
//  - direct conv: one invocation = PX consecutive output pixels of one row x 4·OCV output channels;
//    the channel block comes from workgroup_id.y so weight loads are uniform across a workgroup and
//    each loaded input value feeds 4·OCV FMAs, each loaded weight PX FMAs;
//  - depthwise conv: one invocation = PX output pixels x 4 channels, weights uniform per workgroup;
//  - 2x2/stride-2 transposed conv: a per-pixel GEMM x[Cin] · W[Cin, Cout·4] (PyTorch's
//    [Cin, Cout, 2, 2] read as a row-major [Cin, Cout·4] matrix, so one vec4 = one output channel's
//    2x2 sub-pixels), PX input pixels x 4 output channels per invocation, scattered into 2x2 blocks.
// Partial blocks (channels past Cout, pixels past the end) compute on clamped indices and are simply
// not stored: a select() on every weight load made the direct conv 4x slower on lavapipe.
import type { DType } from '../../runtime/tensor.js';
import { ERF_GELU, header } from '../wgsl.js';

/** Output pixels per invocation (along the output row for the direct convs). */
export const CONV_PX = 4;

const CONV_PARAMS = /* wgsl */ `
struct Params {
  in_h: u32, in_w: u32, cin: u32, out_h: u32,
  out_w: u32, cout: u32, kh: u32, kw: u32,
  stride_y: u32, stride_x: u32, pad_y: u32, pad_x: u32,
  px_blocks: u32, n_blocks: u32, q_scale_off: u32, q_group: u32, // q_*: packed-weight seam only
}`;

/** The float weight binding of the direct conv; packed weights replace it with weightSeam(). */
const FLOAT_WEIGHT = /* wgsl */ `
@group(0) @binding(1) var<storage, read> w: array<T>;
fn w_at(i: u32) -> f32 { return f32(w[i]); }`;

/**
 * out[b, oy, ox, o] = act(bias[o] + Σ_{c,ky,kx} x[b, oy·s−p+ky, ox·s−p+kx, c] · w[o, c, ky, kx]), groups = 1.
 * Weights are read through `w_at(i)` (i = flat index of [Cout, Cin·kh·kw]): binding 1 is the float
 * weight, or `weightDecl` (a packed weight's seam, packed-weight.wgsl.ts).
 */
export function conv2dDirectSource(dtype: DType, weightDecl: string = FLOAT_WEIGHT): string {
  return /* wgsl */ `${header(dtype)}
${CONV_PARAMS}
@group(0) @binding(0) var<storage, read> x: array<T>;
${weightDecl}
@group(0) @binding(2) var<storage, read> bias: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<uniform> p: Params;
override WG: u32 = 64;
// Output channels per invocation / 4 (1..4); the accumulator arrays are sized for 4.
override OCV: u32 = 4;
// Fused activation: 0 = none, 1 = exact GELU.
override ACT: u32 = 0;
const PX: u32 = ${CONV_PX}u;
${ERF_GELU}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  // Pixel blocks run along x (folded over z past 65535 workgroups); the channel block is wid.y.
  let blk = gid.x + wid.z * (nwg.x * WG);
  if (blk >= p.n_blocks) { return; }
  let o0 = wid.y * 4u * OCV;
  let row = blk / p.px_blocks; // b * out_h + oy
  let ox0 = (blk % p.px_blocks) * PX;
  let b = row / p.out_h;
  let oy = row % p.out_h;
  let khw = p.kh * p.kw;

  // Channels past cout (a partial last block) compute on clamped indices and are never stored.
  var wrow: array<u32, 16>; // element offset of each output channel's [cin, kh, kw] filter
  var acc: array<vec4<f32>, 16>; // [px * 4 + j]
  for (var j = 0u; j < OCV; j++) {
    var bv = vec4<f32>(0.0);
    for (var e = 0u; e < 4u; e++) {
      let o = min(o0 + 4u * j + e, p.cout - 1u);
      wrow[4u * j + e] = o * p.cin * khw;
      bv[e] = f32(bias[o]);
    }
    for (var px = 0u; px < PX; px++) { acc[px * 4u + j] = bv; }
  }

  let iy0 = i32(oy * p.stride_y) - i32(p.pad_y);
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = iy0 + i32(ky);
    if (iy < 0 || iy >= i32(p.in_h)) { continue; }
    let row_base = (b * p.in_h + u32(iy)) * p.in_w;
    for (var kx = 0u; kx < p.kw; kx++) {
      var base: array<u32, PX>;
      var valid: array<bool, PX>;
      for (var px = 0u; px < PX; px++) {
        let ix = i32((ox0 + px) * p.stride_x) - i32(p.pad_x) + i32(kx);
        valid[px] = ix >= 0 && ix < i32(p.in_w) && ox0 + px < p.out_w;
        base[px] = select(0u, (row_base + u32(ix)) * p.cin, valid[px]);
      }
      let tap = ky * p.kw + kx;
      for (var c = 0u; c < p.cin; c++) {
        var wv: array<vec4<f32>, 4>;
        let widx = c * khw + tap;
        for (var j = 0u; j < OCV; j++) {
          wv[j] = vec4<f32>(w_at(wrow[4u * j] + widx), w_at(wrow[4u * j + 1u] + widx),
                            w_at(wrow[4u * j + 2u] + widx), w_at(wrow[4u * j + 3u] + widx));
        }
        for (var px = 0u; px < PX; px++) {
          let v = select(0.0, f32(x[base[px] + c]), valid[px]);
          for (var j = 0u; j < OCV; j++) { acc[px * 4u + j] += v * wv[j]; }
        }
      }
    }
  }

  for (var px = 0u; px < PX; px++) {
    let ox = ox0 + px;
    if (ox >= p.out_w) { continue; }
    let obase = (row * p.out_w + ox) * p.cout;
    for (var j = 0u; j < OCV; j++) {
      for (var e = 0u; e < 4u; e++) {
        let o = o0 + 4u * j + e;
        if (o < p.cout) {
          var v = acc[px * 4u + j][e];
          if (ACT == 1u) { v = gelu_erf(v); }
          out[obase + o] = T(v);
        }
      }
    }
  }
}
`;
}

/** Depthwise conv (groups = C, one filter per channel): w [C, 1, kh, kw]. */
export function conv2dDepthwiseSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
${CONV_PARAMS}
@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read> w: array<T>;
@group(0) @binding(2) var<storage, read> bias: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<uniform> p: Params;
override WG: u32 = 64;
override ACT: u32 = 0;
const PX: u32 = ${CONV_PX}u;
${ERF_GELU}
// Four channels c[0..3] of the pixel whose channel 0 is at element \`at\`.
fn load4(at: u32, c: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(f32(x[at + c.x]), f32(x[at + c.y]), f32(x[at + c.z]), f32(x[at + c.w]));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let blk = gid.x + wid.z * (nwg.x * WG);
  if (blk >= p.n_blocks) { return; }
  let c0 = wid.y * 4u;
  let row = blk / p.px_blocks;
  let ox0 = (blk % p.px_blocks) * PX;
  let b = row / p.out_h;
  let oy = row % p.out_h;
  let khw = p.kh * p.kw;

  // Channels past C (a partial last group) compute on clamped indices and are never stored.
  let ch = min(vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.cin - 1u));
  let bv = vec4<f32>(f32(bias[ch.x]), f32(bias[ch.y]), f32(bias[ch.z]), f32(bias[ch.w]));
  let wrow = ch * khw;
  var acc: array<vec4<f32>, PX>;
  for (var px = 0u; px < PX; px++) { acc[px] = bv; }

  let iy0 = i32(oy * p.stride_y) - i32(p.pad_y);
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = iy0 + i32(ky);
    if (iy < 0 || iy >= i32(p.in_h)) { continue; }
    let row_base = (b * p.in_h + u32(iy)) * p.in_w;
    for (var kx = 0u; kx < p.kw; kx++) {
      let tap = ky * p.kw + kx;
      let wv = vec4<f32>(f32(w[wrow.x + tap]), f32(w[wrow.y + tap]), f32(w[wrow.z + tap]), f32(w[wrow.w + tap]));
      for (var px = 0u; px < PX; px++) {
        let ix = i32((ox0 + px) * p.stride_x) - i32(p.pad_x) + i32(kx);
        if (ix >= 0 && ix < i32(p.in_w)) {
          acc[px] += load4((row_base + u32(ix)) * p.cin, ch) * wv;
        }
      }
    }
  }

  for (var px = 0u; px < PX; px++) {
    let ox = ox0 + px;
    if (ox >= p.out_w) { continue; }
    let obase = (row * p.out_w + ox) * p.cin;
    for (var e = 0u; e < 4u; e++) {
      if (c0 + e < p.cin) {
        var v = acc[px][e];
        if (ACT == 1u) { v = gelu_erf(v); }
        out[obase + c0 + e] = T(v);
      }
    }
  }
}
`;
}

const CONVT_PARAMS = /* wgsl */ `
struct Params { h: u32, w: u32, cin: u32, cout: u32, n_pix: u32, n_blocks: u32, skip_n: u32, _p1: u32 }`;

/** Bindings of the transposed conv without / with the fused skip add (binding 3). */
const CONVT_BINDINGS: Record<'plain' | 'skip', string> = {
  plain: /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read> w: array<vec4<T>>;
@group(0) @binding(2) var<storage, read> bias: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<uniform> p: Params;
fn skip_at(i: u32) -> f32 { return 0.0; }`,
  skip: /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read> w: array<vec4<T>>;
@group(0) @binding(2) var<storage, read> bias: array<T>;
@group(0) @binding(3) var<storage, read> skip: array<T>;
@group(0) @binding(4) var<storage, read_write> out: array<T>;
@group(0) @binding(5) var<uniform> p: Params;
// A skip of one map shared by a batch repeats every skip_n elements.
fn skip_at(i: u32) -> f32 { return f32(skip[i % p.skip_n]); }`,
};

/**
 * ConvTranspose2d(k=2, s=2): out[b, 2y+a, 2x+c, o] = bias[o] + Σ_i x[b, y, x, i]·W[i, o, a, c]
 * (+ skip[b, 2y+a, 2x+c, o] when fused; skip[2y+a, 2x+c, o] when one skip map serves the batch).
 */
export function convTranspose2x2Source(dtype: DType, withSkip: boolean): string {
  return /* wgsl */ `${header(dtype)}
${CONVT_PARAMS}
${CONVT_BINDINGS[withSkip ? 'skip' : 'plain']}
override WG: u32 = 64;
const PX: u32 = ${CONV_PX}u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let blk = gid.x + wid.z * (nwg.x * WG);
  if (blk >= p.n_blocks) { return; }
  let o0 = wid.y * 4u;      // 4 output channels per invocation, uniform per workgroup
  let q0 = blk * PX;        // first input pixel (flat over b, y, x)

  // Channels past cout (a partial last block) compute on clamped indices and are never stored.
  let oc = min(vec4<u32>(o0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.cout - 1u));
  var acc: array<vec4<f32>, 16>; // [px * 4 + j], components = sub-pixels (a, c) in a*2+c order
  for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }
  // Pixels past the end (a partial last block) read the last pixel and are never stored.
  var base: array<u32, PX>;
  for (var px = 0u; px < PX; px++) { base[px] = min(q0 + px, p.n_pix - 1u) * p.cin; }
  for (var c = 0u; c < p.cin; c++) {
    var wv: array<vec4<f32>, 4>;
    for (var j = 0u; j < 4u; j++) { wv[j] = vec4<f32>(w[c * p.cout + oc[j]]); }
    for (var px = 0u; px < PX; px++) {
      let v = f32(x[base[px] + c]);
      for (var j = 0u; j < 4u; j++) { acc[px * 4u + j] += v * wv[j]; }
    }
  }

  let ow = 2u * p.w;
  for (var px = 0u; px < PX; px++) {
    let q = q0 + px;
    if (q >= p.n_pix) { continue; }
    let xx = q % p.w;
    let t = q / p.w;      // b * h + y
    for (var j = 0u; j < 4u; j++) {
      let o = o0 + j;
      if (o >= p.cout) { continue; }
      let bo = f32(bias[o]);
      for (var s = 0u; s < 4u; s++) {
        let oy = 2u * t + (s >> 1u);  // (b * 2h + 2y + a): rows of consecutive images stay contiguous
        let ox = 2u * xx + (s & 1u);
        let i = (oy * ow + ox) * p.cout + o;
        out[i] = T(acc[px * 4u + j][s] + bo + skip_at(i));
      }
    }
  }
}
`;
}
