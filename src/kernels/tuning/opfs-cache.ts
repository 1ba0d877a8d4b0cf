// The tuned-kernel cache in a browser's origin-private file system (OPFS), for the app's worker:
//   const gpu = await Gpu.create({ tunedCache: false, kernels: { tuned: await loadTunedCacheOpfs() } });
// and after tuning in the page: await saveTunedCacheOpfs(cache).
import { JsonTuningCache } from './json-cache.js';

export const OPFS_TUNED_CACHE_FILE = 'sam2-webgpu-tuned-kernels.json';

function storage(): StorageManager | undefined {
  return typeof navigator !== 'undefined' ? navigator.storage : undefined;
}

/** The cache stored in OPFS, or undefined when there is none (or no OPFS, or it is malformed: warned). */
export async function loadTunedCacheOpfs(name = OPFS_TUNED_CACHE_FILE): Promise<JsonTuningCache | undefined> {
  const s = storage();
  if (!s?.getDirectory) return undefined;
  let text: string;
  try {
    const root = await s.getDirectory();
    const handle = await root.getFileHandle(name);
    text = await (await handle.getFile()).text();
  } catch {
    return undefined; // NotFoundError: nothing tuned yet
  }
  try {
    return JsonTuningCache.parse(text, `OPFS ${name}`);
  } catch (e) {
    console.warn(`sam2-webgpu: ignoring ${(e as Error).message}`);
    return undefined;
  }
}

export async function saveTunedCacheOpfs(cache: JsonTuningCache, name = OPFS_TUNED_CACHE_FILE): Promise<void> {
  const s = storage();
  if (!s?.getDirectory) throw new Error('OPFS is not available here (navigator.storage.getDirectory)');
  const root = await s.getDirectory();
  const handle = await root.getFileHandle(name, { create: true });
  const w = await handle.createWritable();
  await w.write(cache.stringify());
  await w.close();
}
