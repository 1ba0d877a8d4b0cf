// Keeps the last loaded weights in the browser so a reload does not ask for them again: the Origin
// Private File System when the browser has it (no size-limited structured clone, streamed to disk),
// else IndexedDB (a Blob). One file is kept; loading other weights replaces it.

export type CacheBackend = 'opfs' | 'indexeddb';

export interface CachedWeights {
  name: string;
  bytes: Uint8Array;
  backend: CacheBackend;
}

const OPFS_DIR = 'sam2-webgpu';
const OPFS_FILE = 'weights.safetensors';
const OPFS_META = 'weights.json';
const IDB_NAME = 'sam2-webgpu';
const IDB_STORE = 'weights';
const IDB_KEY = 'current';

async function opfsDir(): Promise<FileSystemDirectoryHandle | null> {
  try {
    if (!navigator.storage?.getDirectory) return null;
    const root = await navigator.storage.getDirectory();
    return await root.getDirectoryHandle(OPFS_DIR, { create: true });
  } catch {
    return null;
  }
}

async function writeOpfsFile(dir: FileSystemDirectoryHandle, name: string, data: Uint8Array | string): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  await writable.write(data as FileSystemWriteChunkType);
  await writable.close();
}

function idb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(IDB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(IDB_STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB open failed'));
  });
}

async function idbRequest<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await idb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(IDB_STORE, mode);
      const req = run(tx.objectStore(IDB_STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

/** Stores the weights; returns where, or null when neither store works (private mode, quota). */
export async function saveWeights(name: string, bytes: Uint8Array): Promise<CacheBackend | null> {
  // Best effort: ask the browser not to evict the (large) file under storage pressure.
  void navigator.storage?.persist?.().catch(() => false);
  const dir = await opfsDir();
  if (dir) {
    try {
      await writeOpfsFile(dir, OPFS_FILE, bytes);
      await writeOpfsFile(dir, OPFS_META, JSON.stringify({ name, bytes: bytes.byteLength }));
      await idbRequest('readwrite', (s) => s.delete(IDB_KEY)).catch(() => undefined);
      return 'opfs';
    } catch {
      await dir.removeEntry(OPFS_META).catch(() => undefined);
    }
  }
  try {
    await idbRequest('readwrite', (s) => s.put({ name, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }, IDB_KEY));
    return 'indexeddb';
  } catch {
    return null;
  }
}

export async function loadCachedWeights(): Promise<CachedWeights | null> {
  const dir = await opfsDir();
  if (dir) {
    try {
      const meta = JSON.parse(await (await (await dir.getFileHandle(OPFS_META)).getFile()).text()) as { name: string; bytes: number };
      const file = await (await dir.getFileHandle(OPFS_FILE)).getFile();
      // A write cut short (tab closed mid-save) leaves a file of the wrong size: ignore it.
      if (file.size === meta.bytes) return { name: meta.name, bytes: new Uint8Array(await file.arrayBuffer()), backend: 'opfs' };
    } catch {
      // nothing cached there
    }
  }
  try {
    const entry = (await idbRequest('readonly', (s) => s.get(IDB_KEY))) as { name: string; blob: Blob } | undefined;
    if (entry) return { name: entry.name, bytes: new Uint8Array(await entry.blob.arrayBuffer()), backend: 'indexeddb' };
  } catch {
    // IndexedDB unavailable
  }
  return null;
}

export async function forgetWeights(): Promise<void> {
  const dir = await opfsDir();
  if (dir) {
    await dir.removeEntry(OPFS_META).catch(() => undefined);
    await dir.removeEntry(OPFS_FILE).catch(() => undefined);
  }
  await idbRequest('readwrite', (s) => s.delete(IDB_KEY)).catch(() => undefined);
}
