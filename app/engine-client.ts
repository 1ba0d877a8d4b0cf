// The page's side of the engine worker: typed request/reply over postMessage, plus the stream of
// propagation progress events.
import type { GpuFailureKind, ProgressEvent, Request, ResultOf, WorkerMessage } from './protocol.js';

/** A rejected request; `gpu` says when the GPU itself failed (the page offers to resume). */
export type EngineError = Error & { gpu?: GpuFailureKind };

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: (e: ProgressEvent) => void };

export class EngineClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor() {
    // A module worker: Vite bundles it (and the engine it imports) as its own chunk.
    this.worker = new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module', name: 'sam2-engine' });
    this.worker.onmessage = (ev: MessageEvent<WorkerMessage>) => this.onMessage(ev.data);
    this.worker.onerror = (ev) => {
      // A worker that fails to load (syntax error, missing module) never replies: fail everything.
      const err = new Error(`the engine worker failed: ${ev.message || 'could not load engine-worker'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  private onMessage(msg: WorkerMessage): void {
    if (msg.type === 'progress') {
      this.pending.get(msg.requestId)?.onProgress?.(msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(Object.assign(new Error(msg.error), { gpu: msg.gpu }));
  }

  request<T extends Request['type']>(
    request: Extract<Request, { type: T }>,
    opts: { transfer?: Transferable[]; onProgress?: (e: ProgressEvent) => void } = {},
  ): Promise<ResultOf[T]> {
    const id = this.nextId++;
    return new Promise<ResultOf[T]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: opts.onProgress });
      this.worker.postMessage({ id, request }, opts.transfer ?? []);
    });
  }
}
