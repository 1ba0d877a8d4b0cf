// Compressed "bombs": small DEFLATE / gzip streams that inflate to a chosen (large) size, built in
// milliseconds without ever holding the inflated bytes: one sync-flushed block of zeros is
// repeated (each copy only refers back to zeros, so the concatenation is a valid stream).
import { constants, crc32, deflateRawSync } from 'node:zlib';

const ZERO_CHUNK = 1 << 20;
let zeroBlock: Uint8Array | null = null;

/** Raw DEFLATE of 1 MiB of zeros, as non-final blocks ending byte-aligned. */
function zerosBlock(): Uint8Array {
  zeroBlock ??= new Uint8Array(deflateRawSync(new Uint8Array(ZERO_CHUNK), { finishFlush: constants.Z_SYNC_FLUSH, level: 9 }));
  return zeroBlock;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Raw DEFLATE of `prefix` followed by `zeroMiB` MiB of zeros. With `final` false the stream has
 * no final block (a truncated stream); by default it ends properly.
 */
export function deflateBomb(prefix: Uint8Array, zeroMiB: number, final = true): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(deflateRawSync(prefix as Uint8Array<ArrayBuffer>, { finishFlush: constants.Z_SYNC_FLUSH }))];
  for (let i = 0; i < zeroMiB; i++) parts.push(zerosBlock());
  if (final) parts.push(new Uint8Array([0x03, 0x00])); // an empty final block
  return concat(parts);
}

/** A gzip member around deflateBomb (CRC over the prefix only: readers that stop early never see it). */
export function gzipBomb(prefix: Uint8Array, zeroMiB: number): Uint8Array {
  const header = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  const trailer = new Uint8Array(8);
  const tv = new DataView(trailer.buffer);
  tv.setUint32(0, crc32(Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength)) >>> 0, true);
  tv.setUint32(4, (prefix.length + zeroMiB * ZERO_CHUNK) >>> 0, true);
  return concat([header, deflateBomb(prefix, zeroMiB), trailer]);
}
