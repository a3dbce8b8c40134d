// The main-thread side of an engine worker: one request at a time per message id, replies by promise.
// The worker keeps the process alive only while a request is pending.
import { Worker } from 'node:worker_threads';
import { FailureError, InputError, UsageError } from '../util/errors.js';
import type { EngineData, EngineQuery } from './engine.js';
import type { EngineReply, EngineRequest } from './engine-worker.js';
import type { RowHits } from './exact-search.js';
import type { HnswBuildRequest, HnswBuildResult } from './hnsw-build.js';

const BOOT = new URL('./engine-worker-boot.mjs', import.meta.url);

type Payload<T> = T extends { id: number } ? Omit<T, 'id'> : never;

export class EngineClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  #dead: Error | null = null;

  constructor() {
    this.#worker = new Worker(BOOT);
    this.#worker.unref();
    this.#worker.on('message', (reply: EngineReply) => {
      const p = this.#pending.get(reply.id);
      if (!p) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (reply.ok) p.resolve(reply.result);
      else {
        const E =
          reply.kind === 'UsageError'
            ? UsageError
            : reply.kind === 'InputError' || reply.kind === 'FormatError'
              ? InputError
              : Error;
        p.reject(new E(reply.message));
      }
    });
    const fail = (e: Error) => {
      this.#dead ??= e;
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    };
    this.#worker.on('error', (e) => fail(new FailureError(`search engine worker failed: ${e.message}`)));
    this.#worker.on('exit', (code) => fail(new FailureError(`search engine worker exited (code ${code})`)));
  }

  #call<T>(req: Payload<EngineRequest>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.ref();
      this.#worker.postMessage({ ...req, id }, transfer);
    });
  }

  open(data: EngineData): Promise<void> {
    return this.#call({ op: 'open', data });
  }

  search(queries: Float32Array, nq: number, query: EngineQuery): Promise<RowHits[]> {
    return this.#call({ op: 'search', queries, nq, query });
  }

  buildHnsw(request: HnswBuildRequest): Promise<HnswBuildResult> {
    return this.#call({ op: 'build-hnsw', request });
  }

  async close(): Promise<void> {
    if (!this.#dead) await this.#call({ op: 'close' }).catch(() => undefined);
    this.#dead ??= new Error('engine closed');
    await this.#worker.terminate();
  }
}
