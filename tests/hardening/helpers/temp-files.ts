// Temporary files for reproducers that go through path-based entry points (CLI verbs, inspect).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'sam2-hardening-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `bytes` to a fresh temporary file, runs `body` on its path, removes it afterwards. */
export async function withTempFile<T>(name: string, bytes: Uint8Array, body: (path: string) => Promise<T>): Promise<T> {
  const t = tempDir();
  try {
    const path = join(t.dir, name);
    writeFileSync(path, bytes);
    return await body(path);
  } finally {
    t.remove();
  }
}
