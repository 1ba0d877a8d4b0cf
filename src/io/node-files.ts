// Node-only file helpers for the weight formats: whole-file safetensors reads, header-only reads,
// random-access byte sources, and atomic output files (write to `<out>.tmp-<pid>`, rename on
// success, delete on failure, so a failed conversion never leaves a partial file behind).

import { open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import {
  parseSafetensors,
  parseSafetensorsHeader,
  readHeaderLength,
  type ByteSink,
  type ParsedHeader,
  type SafetensorsFile,
} from './safetensors.js';

/** Reads a whole safetensors file into memory and parses its header. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  const bytes = await readFile(path);
  return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Random access to a byte range of some large input, without loading all of it. */
export interface RandomAccessSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`; throws if the range is outside the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

export class FileSource implements RandomAccessSource {
  private constructor(private readonly handle: FileHandle, readonly size: number, readonly path: string) {}

  static async open(path: string): Promise<FileSource> {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      return new FileSource(handle, size, path);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new Error(`${this.path}: read of ${length} bytes at offset ${offset} is outside the ${this.size}-byte file (truncated?)`);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`${this.path}: unexpected end of file at offset ${offset + done}`);
      done += bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

export class MemorySource implements RandomAccessSource {
  constructor(private readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.byteLength;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.bytes.byteLength) {
      throw new Error(`read of ${length} bytes at offset ${offset} is outside the ${this.bytes.byteLength}-byte input (truncated?)`);
    }
    return this.bytes.subarray(offset, offset + length);
  }
}

/** Reads and validates only the header of a safetensors file. */
export async function readSafetensorsHeader(source: RandomAccessSource): Promise<ParsedHeader> {
  const first8 = await source.read(0, Math.min(8, source.size));
  const len = readHeaderLength(first8, source.size);
  return parseSafetensorsHeader(await source.read(8, len), source.size);
}

/** A ByteSink appending to an open file. */
export class FileSink implements ByteSink {
  private position = 0;

  constructor(private readonly handle: FileHandle) {}

  get bytesWritten(): number {
    return this.position;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done, this.position);
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }
}

/**
 * Runs `produce` against a temporary file next to `path` and renames it into place only when
 * `produce` resolves; on any error the temporary file is removed and the error rethrown.
 */
export async function writeFileAtomically<T>(path: string, produce: (sink: FileSink) => Promise<T>): Promise<T> {
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w');
  let closed = false;
  try {
    const result = await produce(new FileSink(handle));
    await handle.sync();
    await handle.close();
    closed = true;
    await rename(tmp, path);
    return result;
  } catch (e) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
