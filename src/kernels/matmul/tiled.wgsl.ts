// Strategy "tiled" (GPU-class GEMM, in the manner of tfjs / ONNX Runtime WebGPU's matmul_packed):
// a workgroup computes a TM × TN output tile. Per TK-deep step of K its WG lanes copy the A tile
// (TM × TK) and the B tile (TK × TN) into workgroup memory with coalesced loads (vec4 where the
// contiguous extent is a multiple of 4), then each lane accumulates an RM × 4 register micro-tile
// (rows ty·RM.., columns 4·tx..) from workgroup memory. Loads outside the matrix return zero
// (gemm-loads.wgsl.ts), so any M, N, K works; stores are guarded. Accumulation is f32 whatever
// the storage types; the epilogue (bias, activation, alpha, residual) is the one of every GEMM.
//
// Tile sizes are WGSL constants from the variant's config (cfgConsts): TM, TN, TK, WG and the
// derived RM = TM·TN / (4·WG). Workgroup memory: 16·(TM·(TK/4 + 1) + TK·TN/4) bytes.
import type { DType } from '../../runtime/tensor.js';
import { cfgConsts, type KernelConfig } from '../registry.js';
import type { WeightFormat } from '../../weights/packed.js';
import { loadA, loadB } from './gemm-loads.wgsl.js';
import { loadBPacked } from './matmul-packed.wgsl.js';
import { GEMM_EPILOGUE, GEMM_OUT_BINDINGS, GEMM_PARAMS, gemmHeader, type BLayout } from './matmul.wgsl.js';

// Copies the B tile (rows k0.. of K, columns n0.. of N) into b_tile[k][nq] (vec4 along N).
const LOAD_B_TILE: Record<BLayout, string> = {
  // B is [N, K]: quads run along K, so each loaded quad is scattered into four k rows.
  nk: /* wgsl */ `
fn load_b_tile(base: u32, k0: u32, n0: u32, lid: u32) {
  for (var q = lid; q < TN * KQ; q += WG) {
    let n = q / KQ;
    let kq = q % KQ;
    let v = load_b4(base, n0 + n, k0 + 4u * kq);
    for (var e = 0u; e < 4u; e++) { b_tile[(4u * kq + e) * NQ + n / 4u][n % 4u] = v[e]; }
  }
}`,
  // B is [K, N]: quads run along N and land as they are.
  kn: /* wgsl */ `
fn load_b_tile(base: u32, k0: u32, n0: u32, lid: u32) {
  for (var q = lid; q < TK * NQ; q += WG) {
    b_tile[q] = load_b4(base, k0 + q / NQ, n0 + 4u * (q % NQ));
  }
}`,
};

export function tiledSource(layout: BLayout, act: DType, weight: DType, vecA: boolean, vecB: boolean, cfg: KernelConfig, rm: number, packed?: WeightFormat): string {
  return /* wgsl */ `${gemmHeader(act, weight)}
${GEMM_PARAMS}
${loadA(vecA)}
${packed ? loadBPacked(packed, vecB) : loadB(layout, vecB)}
${GEMM_OUT_BINDINGS}
${cfgConsts({ ...cfg, RM: rm })}
const KQ: u32 = TK / 4u;   // k quads per tile
const NQ: u32 = TN / 4u;   // column quads per tile
const AS: u32 = KQ + 1u;   // a_tile row stride in vec4 (padded against bank conflicts)
var<workgroup> a_tile: array<vec4<f32>, TM * AS>;   // [row][kq] = A[row0 + row, k0 + 4kq ..]
var<workgroup> b_tile: array<vec4<f32>, TK * NQ>;   // [k][nq]   = B[k0 + k, n0 + 4nq ..]
${GEMM_EPILOGUE}
${LOAD_B_TILE[layout]}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  // Workgroups fold (batch × row tiles) over y and z; x covers the column tiles.
  let g = wid.y + wid.z * nwg.y;
  if (g >= p.batch * p.row_blocks) { return; }
  let bi = g / p.row_blocks;
  let row0 = (g % p.row_blocks) * TM;
  let col0 = wid.x * TN;
  let a_base = bi * p.a_batch;
  let b_base = bi * p.b_batch;
  let tx = lid % NQ;   // this lane's columns: col0 + 4tx .. +3
  let ty = lid / NQ;   // this lane's rows: row0 + ty·RM .. +RM-1

  var acc: array<vec4<f32>, RM>;
  for (var k0 = 0u; k0 < p.k; k0 += TK) {
    for (var q = lid; q < TM * KQ; q += WG) {
      a_tile[(q / KQ) * AS + q % KQ] = load_a4(a_base, row0 + q / KQ, k0 + 4u * (q % KQ));
    }
    load_b_tile(b_base, k0, col0, lid);
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

  let out_base = bi * p.out_batch;
  for (var i = 0u; i < RM; i++) {
    let r = row0 + ty * RM + i;
    if (r >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + 4u * tx + j;
      if (c < p.n) {
        let idx = out_base + r * p.n + c;
        out[idx] = T(epilogue(acc[i][j], c, idx));
      }
    }
  }
}
`;
}
