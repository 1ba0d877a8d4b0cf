// Small MLPs on single token rows, many at once: each workgroup runs one job (one input row through
// one MLP of up to MAX_LAYERS Linear layers, ReLU between them, optional sigmoid at the end) with
// the row's activations held in workgroup memory, so an MLP over a token is one dispatch instead of
// a slice copy plus a GEMM per layer plus a copy into its destination. The SAM mask decoder runs
// its hypernetworks, IoU head and object-score head (8 MLPs on 6 tokens) as one launch.
//
// Weights are f32 in one packed buffer; the job table (u32) gives per job its input row, its
// destination, and per layer the weight / bias offsets, dims and activation. Work per layer is
// out_dim dot products of in_dim, split over the workgroup's lanes (one output per lane at a time):
// these rows are a few hundred channels, too small for a GEMM to pay its launch.

/** u32 words per job: 8 header words, then 5 per layer. */
export const JOB_HEADER_WORDS = 8;
export const LAYER_WORDS = 5;
export const MAX_LAYERS = 4;
export const JOB_WORDS = JOB_HEADER_WORDS + LAYER_WORDS * MAX_LAYERS;
/** Bias offset meaning "no bias". */
export const NO_BIAS = 0xffffffff;

/** `outputs` destination tensors (1..3): a job's header selects one. */
export function tokenMlpSource(outputs: number): string {
  const outs = Array.from({ length: outputs }, (_, k) => `@group(0) @binding(${3 + k}) var<storage, read_write> out${k}: array<f32>;`).join('\n');
  const store = Array.from({ length: outputs }, (_, k) => `if (sel == ${k}u) { out${k}[base + o] = v; }`).join(' else ');
  return /* wgsl */ `
struct Params { x_cols: u32, x_batch: u32, x_row0: u32, _pad0: u32, o_batch0: u32, o_batch1: u32, o_batch2: u32, _pad1: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> jobs: array<u32>;
${outs}
@group(0) @binding(${3 + outputs}) var<uniform> p: Params;
override WG: u32 = 64;
/** Widest layer input or output of any job (channels). */
override MAXD: u32 = 256;
const JOB_WORDS = ${JOB_WORDS}u;
const HEADER = ${JOB_HEADER_WORDS}u;
const LAYER = ${LAYER_WORDS}u;
const NO_BIAS = ${NO_BIAS}u;
// Two halves: a layer reads one and writes the other.
var<workgroup> h: array<f32, 2u * MAXD>;

fn batch_stride(sel: u32) -> u32 {
  return select(select(p.o_batch2, p.o_batch1, sel == 1u), p.o_batch0, sel == 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x * JOB_WORDS;
  let b = wid.y;
  let layers = jobs[j + 1u];
  let in0 = jobs[j + HEADER + 2u];
  let xbase = b * p.x_batch + (p.x_row0 + jobs[j]) * p.x_cols;
  for (var i = lid; i < in0; i += WG) { h[i] = x[xbase + i]; }
  workgroupBarrier();
  var src = 0u;
  var width = in0;
  for (var l = 0u; l < layers; l++) {
    let r = j + HEADER + l * LAYER;
    let w_off = jobs[r];
    let b_off = jobs[r + 1u];
    let in_dim = jobs[r + 2u];
    let out_dim = jobs[r + 3u];
    let relu = jobs[r + 4u] != 0u;
    let dst = MAXD - src;
    for (var o = lid; o < out_dim; o += WG) {
      let row = w_off + o * in_dim;
      var acc = 0.0;
      for (var k = 0u; k < in_dim; k++) { acc = fma(w[row + k], h[src + k], acc); }
      if (b_off != NO_BIAS) { acc += w[b_off + o]; }
      if (relu) { acc = max(acc, 0.0); }
      h[dst + o] = acc;
    }
    workgroupBarrier();
    src = dst;
    width = out_dim;
  }
  let sel = jobs[j + 2u];
  let base = b * batch_stride(sel) + jobs[j + 3u];
  let sigmoid = jobs[j + 4u] != 0u;
  for (var o = lid; o < width; o += WG) {
    var v = h[src + o];
    if (sigmoid) { v = 1.0 / (1.0 + exp(-v)); }
    ${store}
  }
}
`;
}
