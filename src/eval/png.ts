// Minimal PNG encoder (8-bit grayscale, RGB or RGBA, no interlace) per the PNG specification
// (W3C, 3rd edition): signature, IHDR, one zlib-compressed IDAT (fflate), IEND. Each row uses
// the "Up" filter, which compresses masks and CT backgrounds well at no cost.

import { zlibSync } from 'fflate';

export type PngColor = 'gray' | 'rgb' | 'rgba';

const CHANNELS: Record<PngColor, number> = { gray: 1, rgb: 3, rgba: 4 };
const COLOR_TYPE: Record<PngColor, number> = { gray: 0, rgb: 2, rgba: 6 };

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, polynomial 0xEDB88320) as PNG chunks use it. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/** Encodes row-major 8-bit pixels (width × height × channels) as a PNG file. */
export function encodePng(pixels: Uint8Array, width: number, height: number, color: PngColor = 'rgba'): Uint8Array {
  const ch = CHANNELS[color];
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`png: size must be positive integers, got ${width}×${height}`);
  }
  if (pixels.length !== width * height * ch) {
    throw new Error(`png: ${color} image ${width}×${height} needs ${width * height * ch} bytes, got ${pixels.length}`);
  }
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[color];
  // compression 0, filter method 0, interlace 0
  const stride = width * ch;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    const row = y * stride;
    raw[o] = y === 0 ? 0 : 2; // None for the first row, Up after
    for (let x = 0; x < stride; x++) raw[o + 1 + x] = y === 0 ? pixels[row + x] : (pixels[row + x] - pixels[row - stride + x]) & 0xff;
  }
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibSync(raw, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
