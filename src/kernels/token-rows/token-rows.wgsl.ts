// A short program of row operations on token rows, one workgroup per row: the few-token side of a
// transformer (SAM's two-way transformer tokens: ~7 rows of 256 channels) as one launch instead of
// one GEMM, add or LayerNorm launch each. Every op reads and writes "registers", ranges of one
// workgroup-memory row; the ops are:
//   LOAD   reg[dst..+n]  = in_k[row, col..+n]
//   LINEAR reg[dst..+o]  = act(W·reg[src..+i] + b)        (W [o, i] row-major in the packed weights)
//   ADD    reg[dst..+n]  = reg[a..+n] + reg[b..+n]
//   LN     reg[dst..+n]  = LayerNorm(reg[src..+n]; γ, β, eps)  (two-pass mean / variance in f32)
//   STORE  out_k[row, col..+n] = reg[src..+n]
// with a barrier after each. Weights and norms are f32 in one packed buffer; the op table is u32.
// Rows of every input / output are strided (row and batch strides from the uniforms), so results
// land straight in the column ranges that attention reads as token views.

export const OP_WORDS = 8;
export const OP = { load: 1, linear: 2, add: 3, layerNorm: 4, store: 5 } as const;
export const NO_BIAS = 0xffffffff;
export const INPUTS = 2;
export const OUTPUTS = 3;

export function tokenRowsSource(): string {
  return /* wgsl */ `
struct Params {
  rows: u32, num_ops: u32, _p0: u32, _p1: u32,
  in_row0: u32, in_batch0: u32, in_row1: u32, in_batch1: u32,
  out_row0: u32, out_batch0: u32, out_row1: u32, out_batch1: u32,
  out_row2: u32, out_batch2: u32, _p2: u32, _p3: u32,
}
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> ops: array<u32>;
@group(0) @binding(4) var<storage, read_write> out0: array<f32>;
@group(0) @binding(5) var<storage, read_write> out1: array<f32>;
@group(0) @binding(6) var<storage, read_write> out2: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;
override WG: u32 = 64;
/** Register space per row (floats). */
override REGS: u32 = 2048;
const NO_BIAS = ${NO_BIAS}u;
var<workgroup> reg: array<f32, REGS>;
var<workgroup> red: array<f32, WG>;

/** Sum of every lane's v (all lanes get it). */
fn workgroup_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  var s = 0.0;
  for (var i = 0u; i < WG; i++) { s += red[i]; }
  workgroupBarrier();
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let b = wid.y;
  for (var i = 0u; i < p.num_ops; i++) {
    let o = i * ${OP_WORDS}u;
    let kind = ops[o];
    let a0 = ops[o + 1u];
    let a1 = ops[o + 2u];
    let a2 = ops[o + 3u];
    let a3 = ops[o + 4u];
    let a4 = ops[o + 5u];
    let a5 = ops[o + 6u];
    let a6 = ops[o + 7u];
    if (kind == ${OP.load}u) {
      // a0 input, a1 column, a2 width, a3 dst
      if (a0 == 0u) {
        let base = b * p.in_batch0 + row * p.in_row0 + a1;
        for (var c = lid; c < a2; c += WG) { reg[a3 + c] = in0[base + c]; }
      } else {
        let base = b * p.in_batch1 + row * p.in_row1 + a1;
        for (var c = lid; c < a2; c += WG) { reg[a3 + c] = in1[base + c]; }
      }
    } else if (kind == ${OP.linear}u) {
      // a0 src, a1 dst, a2 in_dim, a3 out_dim, a4 weight offset, a5 bias offset, a6 relu
      for (var c = lid; c < a3; c += WG) {
        let wrow = a4 + c * a2;
        var acc = 0.0;
        for (var k = 0u; k < a2; k++) { acc = fma(w[wrow + k], reg[a0 + k], acc); }
        if (a5 != NO_BIAS) { acc += w[a5 + c]; }
        if (a6 != 0u) { acc = max(acc, 0.0); }
        reg[a1 + c] = acc;
      }
    } else if (kind == ${OP.add}u) {
      // a0 + a1 → a2, width a3
      for (var c = lid; c < a3; c += WG) { reg[a2 + c] = reg[a0 + c] + reg[a1 + c]; }
    } else if (kind == ${OP.layerNorm}u) {
      // a0 src, a1 dst, a2 width, a3 γ offset, a4 β offset, a5 eps bits
      var s = 0.0;
      for (var c = lid; c < a2; c += WG) { s += reg[a0 + c]; }
      let mean = workgroup_sum(lid, s) / f32(a2);
      var q = 0.0;
      for (var c = lid; c < a2; c += WG) { let d = reg[a0 + c] - mean; q = fma(d, d, q); }
      let inv = inverseSqrt(workgroup_sum(lid, q) / f32(a2) + bitcast<f32>(a5));
      for (var c = lid; c < a2; c += WG) { reg[a1 + c] = (reg[a0 + c] - mean) * inv * w[a3 + c] + w[a4 + c]; }
    } else if (kind == ${OP.store}u) {
      // a0 src, a1 output, a2 column, a3 width
      if (a1 == 0u) {
        let base = b * p.out_batch0 + row * p.out_row0 + a2;
        for (var c = lid; c < a3; c += WG) { out0[base + c] = reg[a0 + c]; }
      } else if (a1 == 1u) {
        let base = b * p.out_batch1 + row * p.out_row1 + a2;
        for (var c = lid; c < a3; c += WG) { out1[base + c] = reg[a0 + c]; }
      } else {
        let base = b * p.out_batch2 + row * p.out_row2 + a2;
        for (var c = lid; c < a3; c += WG) { out2[base + c] = reg[a0 + c]; }
      }
    }
    workgroupBarrier();
  }
}
`;
}
