// The tuned-kernel cache on disk (Node): `$SAM2_TUNED_CACHE`, else
// `~/.cache/sam2-webgpu/tuned-kernels.json` (`$XDG_CACHE_HOME/sam2-webgpu/...` where set).
// SAM2_TUNED_CACHE=off disables it. Node modules are imported lazily so browser bundles that
// reach this file through Gpu.create never load them.
import { JsonTuningCache } from './json-cache.js';

/** The cache file Gpu.create reads and `npm run bench:tune` writes; undefined when disabled (SAM2_TUNED_CACHE=off). */
export async function defaultTunedCachePath(): Promise<string | undefined> {
  const env = process.env.SAM2_TUNED_CACHE;
  if (env === 'off' || env === 'none' || env === '0') return undefined;
  if (env) return env;
  const os = await import('node:os');
  const path = await import('node:path');
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'sam2-webgpu', 'tuned-kernels.json');
}

/**
 * Reads a cache file. A missing file is no cache (undefined); an unreadable or malformed one is
 * reported on stderr and ignored, so a stale cache never stops the engine.
 */
export async function loadTunedCache(file?: string): Promise<JsonTuningCache | undefined> {
  const path = file ?? (await defaultTunedCachePath());
  if (!path) return undefined;
  const fs = await import('node:fs');
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    console.warn(`sam2-webgpu: ignoring tuned-kernel cache ${path}: ${(e as Error).message}`);
    return undefined;
  }
  try {
    return JsonTuningCache.parse(text, path);
  } catch (e) {
    console.warn(`sam2-webgpu: ignoring ${(e as Error).message}`);
    return undefined;
  }
}

/** Writes the cache (creating its directory); returns the path written. */
export async function saveTunedCache(cache: JsonTuningCache, file?: string): Promise<string> {
  const path = file ?? (await defaultTunedCachePath());
  if (!path) throw new Error('the tuned-kernel cache is disabled (SAM2_TUNED_CACHE=off): pass a file');
  const fs = await import('node:fs');
  const { dirname } = await import('node:path');
  fs.mkdirSync(dirname(path), { recursive: true });
  fs.writeFileSync(path, cache.stringify());
  return path;
}
