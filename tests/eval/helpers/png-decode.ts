// Independent PNG decoder for the subset src/eval/png.ts writes (8-bit, filters None/Up). It checks
// every chunk CRC with node:zlib and inflates with node:zlib, so it shares no code with the encoder.

import { crc32 as nodeCrc32, inflateSync } from 'node:zlib';
import { expect } from 'vitest';

export function decodePng(png: Uint8Array) {
  expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  const chunks: Array<{ type: string; data: Uint8Array }> = [];
  while (o < png.length) {
    const len = view.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const data = png.subarray(o + 8, o + 8 + len);
    expect(view.getUint32(o + 8 + len), `${type} CRC`).toBe(nodeCrc32(png.subarray(o + 4, o + 8 + len)));
    chunks.push({ type, data });
    o += 12 + len;
  }
  expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  const ih = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset, 13);
  const width = ih.getUint32(0);
  const height = ih.getUint32(4);
  const colorType = chunks[0].data[9];
  expect(chunks[0].data[8]).toBe(8);
  const ch = { 0: 1, 2: 3, 6: 4 }[colorType as 0 | 2 | 6];
  const raw = inflateSync(chunks[1].data);
  const stride = width * ch;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      pixels[y * stride + x] = filter === 2 ? (v + up) & 0xff : v;
    }
  }
  return { width, height, colorType, pixels };
}
