// Writes small synthetic DICOM Part 10 files (explicit VR little endian) so tests can build series
// with chosen geometry, rescale and defects. Only what the reader needs; not a general writer.

export interface SyntheticSlice {
  rows: number;
  columns: number;
  position: [number, number, number];
  orientation?: number[];
  pixelSpacing?: [number, number];
  seriesUid?: string;
  instanceNumber?: number;
  slope?: number;
  intercept?: number;
  signed?: boolean;
  /** BitsStored (default 16); HighBit is BitsStored - 1. */
  bitsStored?: number;
  /** Stored values, row-major; omit to leave out the pixel data element. */
  pixels?: Int16Array | Uint16Array;
  transferSyntax?: string;
  modality?: string;
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

function element(group: number, elem: number, vr: string, value: Uint8Array): Uint8Array {
  const padded = value.length % 2 ? concat([value, new Uint8Array([vr === 'UI' ? 0 : 0x20])]) : value;
  const long = LONG_VRS.has(vr);
  const head = new Uint8Array(long ? 12 : 8);
  const v = new DataView(head.buffer);
  v.setUint16(0, group, true);
  v.setUint16(2, elem, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) v.setUint32(8, padded.length, true);
  else v.setUint16(6, padded.length, true);
  return concat([head, padded]);
}

const text = (s: string) => new TextEncoder().encode(s);
const us = (n: number) => new Uint8Array(new Uint16Array([n]).buffer);
const ds = (values: number[]) => text(values.map((x) => String(+x.toFixed(6))).join('\\'));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function writeSyntheticDicom(s: SyntheticSlice): Uint8Array {
  const syntax = s.transferSyntax ?? '1.2.840.10008.1.2.1';
  const metaBody = concat([
    element(0x0002, 0x0001, 'OB', new Uint8Array([0, 1])),
    element(0x0002, 0x0002, 'UI', text('1.2.840.10008.5.1.4.1.1.4')),
    element(0x0002, 0x0003, 'UI', text(`1.2.3.4.${s.instanceNumber ?? 1}`)),
    element(0x0002, 0x0010, 'UI', text(syntax)),
  ]);
  const groupLength = new Uint8Array(new Uint32Array([metaBody.length]).buffer);
  const meta = concat([element(0x0002, 0x0000, 'UL', groupLength), metaBody]);
  const body: Uint8Array[] = [
    element(0x0008, 0x0016, 'UI', text('1.2.840.10008.5.1.4.1.1.4')),
    element(0x0008, 0x0060, 'CS', text(s.modality ?? 'MR')),
    element(0x0020, 0x000e, 'UI', text(s.seriesUid ?? '1.2.3.99')),
    element(0x0020, 0x0013, 'IS', text(String(s.instanceNumber ?? 1))),
    element(0x0020, 0x0032, 'DS', ds(s.position)),
    element(0x0020, 0x0037, 'DS', ds(s.orientation ?? [1, 0, 0, 0, 1, 0])),
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', text('MONOCHROME2')),
    element(0x0028, 0x0010, 'US', us(s.rows)),
    element(0x0028, 0x0011, 'US', us(s.columns)),
    element(0x0028, 0x0030, 'DS', ds(s.pixelSpacing ?? [1, 1])),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0101, 'US', us(s.bitsStored ?? 16)),
    element(0x0028, 0x0102, 'US', us((s.bitsStored ?? 16) - 1)),
    element(0x0028, 0x0103, 'US', us(s.signed === false ? 0 : 1)),
  ];
  if (s.intercept !== undefined) body.push(element(0x0028, 0x1052, 'DS', ds([s.intercept])));
  if (s.slope !== undefined) body.push(element(0x0028, 0x1053, 'DS', ds([s.slope])));
  if (s.pixels) body.push(element(0x7fe0, 0x0010, 'OW', new Uint8Array(s.pixels.buffer, s.pixels.byteOffset, s.pixels.byteLength)));
  const preamble = new Uint8Array(132);
  preamble.set(text('DICM'), 128);
  return concat([preamble, meta, ...body]);
}
