// Builds NIfTI-1 / NIfTI-2 files field by field (either byte order) for reader tests, independent of
// src/volume/nifti.ts's writer so a shared mistake cannot hide.

export interface HeaderFields {
  dim: number[];
  datatype: number;
  bitpix: number;
  pixdim?: number[];
  voxOffset?: number;
  sclSlope?: number;
  sclInter?: number;
  qformCode?: number;
  sformCode?: number;
  quatern?: number[];
  qoffset?: number[];
  srow?: number[][];
  xyztUnits?: number;
  magic?: string;
}

export function buildNifti1(h: HeaderFields, data: Uint8Array, littleEndian = true): Uint8Array {
  const vox = h.voxOffset ?? 352;
  const out = new Uint8Array(vox + data.length);
  const v = new DataView(out.buffer);
  const le = littleEndian;
  v.setInt32(0, 348, le);
  h.dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
  v.setInt16(70, h.datatype, le);
  v.setInt16(72, h.bitpix, le);
  (h.pixdim ?? [1, 1, 1, 1, 1, 1, 1, 1]).forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
  v.setFloat32(108, vox, le);
  v.setFloat32(112, h.sclSlope ?? 0, le);
  v.setFloat32(116, h.sclInter ?? 0, le);
  out[123] = h.xyztUnits ?? 2;
  v.setInt16(252, h.qformCode ?? 0, le);
  v.setInt16(254, h.sformCode ?? 0, le);
  (h.quatern ?? [0, 0, 0]).forEach((q, i) => v.setFloat32(256 + 4 * i, q, le));
  (h.qoffset ?? [0, 0, 0]).forEach((q, i) => v.setFloat32(268 + 4 * i, q, le));
  (h.srow ?? [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]).forEach((row, r) => row.forEach((x, c) => v.setFloat32(280 + 16 * r + 4 * c, x, le)));
  const magic = h.magic ?? 'n+1';
  for (let i = 0; i < magic.length; i++) out[344 + i] = magic.charCodeAt(i);
  out.set(data, vox);
  return out;
}

export function buildNifti2(h: HeaderFields, data: Uint8Array, littleEndian = true): Uint8Array {
  const vox = h.voxOffset ?? 544;
  const out = new Uint8Array(vox + data.length);
  const v = new DataView(out.buffer);
  const le = littleEndian;
  v.setInt32(0, 540, le);
  out.set([0x6e, 0x2b, 0x32, 0, 0x0d, 0x0a, 0x1a, 0x0a], 4);
  v.setInt16(12, h.datatype, le);
  v.setInt16(14, h.bitpix, le);
  h.dim.forEach((d, i) => v.setBigInt64(16 + 8 * i, BigInt(d), le));
  (h.pixdim ?? [1, 1, 1, 1, 1, 1, 1, 1]).forEach((p, i) => v.setFloat64(104 + 8 * i, p, le));
  v.setBigInt64(168, BigInt(vox), le);
  v.setFloat64(176, h.sclSlope ?? 0, le);
  v.setFloat64(184, h.sclInter ?? 0, le);
  v.setInt32(344, h.qformCode ?? 0, le);
  v.setInt32(348, h.sformCode ?? 0, le);
  (h.quatern ?? [0, 0, 0]).forEach((q, i) => v.setFloat64(352 + 8 * i, q, le));
  (h.qoffset ?? [0, 0, 0]).forEach((q, i) => v.setFloat64(376 + 8 * i, q, le));
  (h.srow ?? [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]).forEach((row, r) => row.forEach((x, c) => v.setFloat64(400 + 32 * r + 8 * c, x, le)));
  v.setInt32(500, h.xyztUnits ?? 2, le);
  out.set(data, vox);
  return out;
}

/** Bytes of a typed array in the requested byte order. */
export function typedBytes(a: Int16Array | Float32Array | Uint8Array | Int32Array | Float64Array | Uint16Array | Int8Array, littleEndian = true): Uint8Array {
  const bytes = new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  if (!littleEndian && a.BYTES_PER_ELEMENT > 1) {
    for (let p = 0; p < bytes.length; p += a.BYTES_PER_ELEMENT) bytes.subarray(p, p + a.BYTES_PER_ELEMENT).reverse();
  }
  return bytes;
}
