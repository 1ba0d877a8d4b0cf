// Packs a WGSL uniform struct made only of 4-byte scalars (u32, i32, f32), in declaration order.
// Keeping uniform structs scalar-only avoids WGSL's vec3/array alignment rules entirely.

export type UniformField = ['u32' | 'i32' | 'f32', number];

export class UniformWriter {
  private readonly words: number[] = [];
  private readonly kinds: Array<'u32' | 'i32' | 'f32'> = [];

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`uniform u32 out of range: ${v}`);
    this.words.push(v);
    this.kinds.push('u32');
    return this;
  }

  i32(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new Error(`uniform i32 out of range: ${v}`);
    this.words.push(v);
    this.kinds.push('i32');
    return this;
  }

  f32(v: number): this {
    this.words.push(v);
    this.kinds.push('f32');
    return this;
  }

  /** Bytes padded to 16 (uniform buffer bindings must be a multiple of 16 bytes). */
  bytes(): Uint8Array {
    const n = Math.max(4, Math.ceil(this.words.length / 4) * 4);
    const buf = new ArrayBuffer(n * 4);
    const u = new Uint32Array(buf);
    const i = new Int32Array(buf);
    const f = new Float32Array(buf);
    this.words.forEach((w, k) => {
      if (this.kinds[k] === 'f32') f[k] = w;
      else if (this.kinds[k] === 'i32') i[k] = w;
      else u[k] = w;
    });
    return new Uint8Array(buf);
  }
}

export function uniforms(fields: UniformField[]): Uint8Array {
  const w = new UniformWriter();
  for (const [kind, v] of fields) w[kind](v);
  return w.bytes();
}
