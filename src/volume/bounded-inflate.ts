// Streaming gunzip / inflate that stops as soon as the caller has what it needs. A compressed
// volume says how big it is (NIfTI dims × type, DICOM rows × columns) long before its end: the
// caller reads the header first, checks the announced size against a cap, then inflates exactly
// that much. A 1 MB "zip bomb" can therefore never grow past the size its own header announces,
// and never past the cap. Input is pushed in small chunks so one push cannot balloon either.

import { Gunzip, Inflate } from 'fflate';

/** Compressed bytes pushed per step: deflate expands at most ~1032×, so one step yields ≤ ~16 MB. */
const INPUT_CHUNK = 16 * 1024;

export class InflateError extends Error {
  override name = 'InflateError';
}

export class BoundedInflater {
  private out = new Uint8Array(64 * 1024);
  private length = 0;
  private inPos = 0;
  private done = false;
  /** Bytes the stream produced beyond what fit (a sign of a stream longer than announced). */
  overflow = 0;
  private readonly stream: Gunzip | Inflate;
  private capacity: number;
  private readonly what: string;

  /**
   * `format` 'gzip' (a .gz file) or 'deflate' (raw DEFLATE, e.g. DICOM's deflated transfer
   * syntax). `maxBytes` caps the output whatever the caller later asks for.
   */
  constructor(
    private readonly input: Uint8Array,
    format: 'gzip' | 'deflate',
    private readonly name: string,
    private readonly maxBytes: number,
  ) {
    this.capacity = maxBytes;
    this.what = format === 'gzip' ? 'gzip data' : 'deflated data';
    const onData = (chunk: Uint8Array, final: boolean) => {
      this.append(chunk);
      if (final) this.done = true;
    };
    this.stream = format === 'gzip' ? new Gunzip(onData) : new Inflate(onData);
  }

  /** Bytes inflated so far. */
  get size(): number {
    return this.length;
  }

  /** Whether the compressed stream has ended. */
  get ended(): boolean {
    return this.done;
  }

  private append(chunk: Uint8Array): void {
    const room = this.capacity - this.length;
    const take = Math.min(room, chunk.length);
    this.overflow += chunk.length - take;
    if (take <= 0) return;
    if (this.length + take > this.out.length) {
      const grown = new Uint8Array(Math.min(this.capacity, Math.max(this.length + take, this.out.length * 2)));
      grown.set(this.out.subarray(0, this.length));
      this.out = grown;
    }
    this.out.set(chunk.subarray(0, take), this.length);
    this.length += take;
  }

  /**
   * Declares the stream's useful length (from a header): output beyond it is dropped, so memory
   * stays at `n`. Throws when `n` exceeds the cap.
   */
  expectTotal(n: number, what = 'the data'): void {
    if (n > this.maxBytes) {
      throw new InflateError(`${this.name}: ${what} needs ${n} uncompressed bytes, more than the limit of ${this.maxBytes}`);
    }
    this.capacity = n;
    if (this.length > n) {
      this.overflow += this.length - n;
      this.length = n;
    }
    if (this.out.length !== n) {
      const exact = new Uint8Array(n);
      exact.set(this.out.subarray(0, this.length));
      this.out = exact;
    }
  }

  /** Inflates until at least `n` bytes are out or the stream ends; returns the bytes available. */
  fill(n: number): number {
    try {
      while (this.length < n && !this.done && this.inPos < this.input.length) {
        const end = Math.min(this.input.length, this.inPos + INPUT_CHUNK);
        const chunk = this.input.subarray(this.inPos, end);
        this.inPos = end;
        this.stream.push(chunk, end === this.input.length);
      }
    } catch (e) {
      throw new InflateError(`${this.name}: ${this.what} is truncated or corrupt (${(e as Error).message})`);
    }
    if (this.length < n && this.capacity > this.length && !this.done) {
      throw new InflateError(`${this.name}: ${this.what} is truncated (the stream ends after ${this.length} bytes)`);
    }
    return Math.min(this.length, n);
  }

  /** The first `n` inflated bytes (a view; `fill(n)` first). */
  bytes(n = this.length): Uint8Array {
    return this.out.subarray(0, Math.min(n, this.length));
  }

  /** Bytes the stream produced so far, kept or dropped. */
  get produced(): number {
    return this.length + this.overflow;
  }
}
