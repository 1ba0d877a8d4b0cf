// Strategy "subgroup": no workgroup memory and no barriers. A workgroup computes RM rows × 4·WG
// columns: every lane owns 4 columns of the same RM rows and reads its B values straight from
// global memory (coalesced across lanes for 'kn'), while the A values, which all lanes need, are
// fetched once per subgroup and passed around with subgroupShuffle: lane s of a subgroup loads the
// quad A[row0 + s % RM, k0 + 4·(s / RM) ..], so one fetch covers RM rows × (subgroup_size / RM)
// k quads, and lane-by-lane shuffles hand each quad to every lane.
//
// Correct for any subgroup size that is a multiple of RM (sizes are powers of two ≥ 4, so RM = 4
// always qualifies and RM = 8 needs a minimum size of 8): the size is read from `subgroup_size` at
// run time, never assumed. WG must be a multiple of the largest subgroup size so that subgroups are
// full; lanes past N still take part in the shuffles (their loads return zero) and store nothing.
import type { DType } from '../../runtime/tensor.js';
import { cfgConsts, type KernelConfig } from '../registry.js';
import type { WeightFormat } from '../../weights/packed.js';
import { loadA, loadB } from './gemm-loads.wgsl.js';
import { loadBPacked } from './matmul-packed.wgsl.js';
import { GEMM_EPILOGUE, GEMM_OUT_BINDINGS, GEMM_PARAMS, gemmHeader, type BLayout } from './matmul.wgsl.js';

// Rows k..k+3 of B at this lane's columns col..col+3 (column j of the result is row k + j).
const LOAD_B_ROWS: Record<BLayout, string> = {
  // B [N, K]: one quad along K per column, transposed into rows.
  nk: /* wgsl */ `
fn load_b_rows(base: u32, k: u32, col: u32) -> mat4x4<f32> {
  return transpose(mat4x4<f32>(load_b4(base, col, k), load_b4(base, col + 1u, k),
                               load_b4(base, col + 2u, k), load_b4(base, col + 3u, k)));
}`,
  // B [K, N]: one quad along N per row.
  kn: /* wgsl */ `
fn load_b_rows(base: u32, k: u32, col: u32) -> mat4x4<f32> {
  return mat4x4<f32>(load_b4(base, k, col), load_b4(base, k + 1u, col),
                     load_b4(base, k + 2u, col), load_b4(base, k + 3u, col));
}`,
};

export function subgroupSource(layout: BLayout, act: DType, weight: DType, vecA: boolean, vecB: boolean, cfg: KernelConfig, packed?: WeightFormat): string {
  return /* wgsl */ `enable subgroups;
${gemmHeader(act, weight)}
${GEMM_PARAMS}
${loadA(vecA)}
${packed ? loadBPacked(packed, vecB) : loadB(layout, vecB)}
${GEMM_OUT_BINDINGS}
${cfgConsts(cfg)}
${GEMM_EPILOGUE}
${LOAD_B_ROWS[layout]}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>, @builtin(subgroup_invocation_id) sid: u32,
        @builtin(subgroup_size) sg_size: u32) {
  let g = wid.y + wid.z * nwg.y;
  if (g >= p.batch * p.row_blocks) { return; }
  let bi = g / p.row_blocks;
  let row0 = (g % p.row_blocks) * RM;
  let col = (wid.x * WG + lid) * 4u;
  let a_base = bi * p.a_batch;
  let b_base = bi * p.b_batch;
  // The quad this lane fetches for its subgroup: row row0 + sid % RM, k quad sid / RM of the chunk.
  let fetch_row = row0 + sid % RM;
  let fetch_kq = sid / RM;
  let quads = sg_size / RM;   // k quads per subgroup fetch

  var acc: array<vec4<f32>, RM>;
  for (var k0 = 0u; k0 < p.k; k0 += 4u * quads) {
    let frag = load_a4(a_base, fetch_row, k0 + 4u * fetch_kq);
    let live = min(quads, (p.k - k0 + 3u) / 4u);   // quads of this chunk inside K
    for (var q = 0u; q < live; q++) {
      let bm = load_b_rows(b_base, k0 + 4u * q, col);
      for (var i = 0u; i < RM; i++) {
        let av = subgroupShuffle(frag, q * RM + i);   // A[row0 + i, k0 + 4q ..]
        acc[i] += bm * av;
      }
    }
  }

  let out_base = bi * p.out_batch;
  for (var i = 0u; i < RM; i++) {
    let r = row0 + i;
    if (r >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = col + j;
      if (c < p.n) {
        let idx = out_base + r * p.n + c;
        out[idx] = T(epilogue(acc[i][j], c, idx));
      }
    }
  }
}
`;
}
