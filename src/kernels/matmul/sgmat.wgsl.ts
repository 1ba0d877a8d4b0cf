// Strategy "sgmat": Chromium's experimental subgroup matrices (cooperative matrices: tensor cores on
// NVIDIA, simdgroup matrices on Apple). A workgroup computes a TM × TN tile: per TK step the lanes
// stage the A and B tiles in workgroup memory as f16 (converting f32 storage on the way), then each
// subgroup multiply-accumulates its share of the SM × SN result fragments (SK deep per call) with
// f32 results. The fragments are stored to workgroup memory and the whole workgroup applies the
// GEMM epilogue with guarded stores, so any M, N, K works.
//
// Config: TM, TN, TK, WG plus the adapter's fragment shape SM, SN, SK and its largest subgroup
// size SGMAX. The feature requires WG to be a multiple of SGMAX and full subgroups, so subgroup
// `lid / subgroup_size` holds lanes lid.. of consecutive indices; subgroup j computes fragments
// j·per .. (j+1)·per − 1 with per = FRAGS / (WG / subgroup_size) (read at run time).
import type { DType } from '../../runtime/tensor.js';
import { cfgConsts, type KernelConfig } from '../registry.js';
import { loadA, loadB } from './gemm-loads.wgsl.js';
import { GEMM_EPILOGUE, GEMM_OUT_BINDINGS, GEMM_PARAMS, gemmHeader, type BLayout } from './matmul.wgsl.js';

// Stages B rows k0.. and columns n0.. into b_tile[k][n] (row-major TK × TN, f16).
const STAGE_B: Record<BLayout, string> = {
  nk: /* wgsl */ `
fn stage_b(base: u32, k0: u32, n0: u32, lid: u32) {
  for (var q = lid; q < TN * (TK / 4u); q += WG) {
    let n = q / (TK / 4u);
    let kq = q % (TK / 4u);
    let v = load_b4(base, n0 + n, k0 + 4u * kq);
    for (var e = 0u; e < 4u; e++) { b_tile[(4u * kq + e) * TN + n] = f16(v[e]); }
  }
}`,
  kn: /* wgsl */ `
fn stage_b(base: u32, k0: u32, n0: u32, lid: u32) {
  for (var q = lid; q < TK * (TN / 4u); q += WG) {
    let kk = q / (TN / 4u);
    let nq = q % (TN / 4u);
    let v = load_b4(base, k0 + kk, n0 + 4u * nq);
    for (var e = 0u; e < 4u; e++) { b_tile[kk * TN + 4u * nq + e] = f16(v[e]); }
  }
}`,
};

export function sgmatSource(layout: BLayout, act: DType, weight: DType, vecA: boolean, vecB: boolean, cfg: KernelConfig): string {
  return /* wgsl */ `enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium.subgroup_matrix_uniformity);
${gemmHeader(act, weight)}${GEMM_PARAMS}
${loadA(vecA)}
${loadB(layout, vecB)}
${GEMM_OUT_BINDINGS}
${cfgConsts(cfg)}
const FN: u32 = TN / SN;                 // fragments per tile row
const FRAGS: u32 = (TM / SM) * FN;
const MAXF: u32 = FRAGS * SGMAX / WG;    // fragments per subgroup at the largest subgroup size
var<workgroup> a_tile: array<f16, TM * TK>;   // row-major [TM][TK]
var<workgroup> b_tile: array<f16, TK * TN>;   // row-major [TK][TN]
var<workgroup> c_tile: array<f32, TM * TN>;   // row-major [TM][TN], results before the epilogue
${GEMM_EPILOGUE}
${STAGE_B[layout]}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>, @builtin(subgroup_size) sg_size: u32) {
  let g = wid.y + wid.z * nwg.y;
  if (g >= p.batch * p.row_blocks) { return; }
  let bi = g / p.row_blocks;
  let row0 = (g % p.row_blocks) * TM;
  let col0 = wid.x * TN;
  let a_base = bi * p.a_batch;
  let b_base = bi * p.b_batch;
  let per = FRAGS / (WG / sg_size);
  let first = (lid / sg_size) * per;

  var acc: array<subgroup_matrix_result<f32, SN, SM>, MAXF>;
  for (var k0 = 0u; k0 < p.k; k0 += TK) {
    for (var q = lid; q < TM * (TK / 4u); q += WG) {
      let r = q / (TK / 4u);
      let kq = q % (TK / 4u);
      let v = load_a4(a_base, row0 + r, k0 + 4u * kq);
      for (var e = 0u; e < 4u; e++) { a_tile[r * TK + 4u * kq + e] = f16(v[e]); }
    }
    stage_b(b_base, k0, col0, lid);
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk += SK) {
      for (var j = 0u; j < per; j++) {
        let f = first + j;
        let left = subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>>(&a_tile, (f / FN) * SM * TK + kk, false, TK);
        let right = subgroupMatrixLoad<subgroup_matrix_right<f16, SN, SK>>(&b_tile, kk * TN + (f % FN) * SN, false, TN);
        acc[j] = subgroupMatrixMultiplyAccumulate(left, right, acc[j]);
      }
    }
    workgroupBarrier();
  }
  for (var j = 0u; j < per; j++) {
    let f = first + j;
    subgroupMatrixStore(&c_tile, (f / FN) * SM * TN + (f % FN) * SN, acc[j], false, TN);
  }
  workgroupBarrier();

  let out_base = bi * p.out_batch;
  for (var e = lid; e < TM * TN; e += WG) {
    let r = row0 + e / TN;
    let c = col0 + e % TN;
    if (r < p.m && c < p.n) {
      let idx = out_base + r * p.n + c;
      out[idx] = T(epilogue(c_tile[e], c, idx));
    }
  }
}
`;
}
