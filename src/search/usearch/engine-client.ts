// The main-thread side of an engine worker: calls by message id, answers by promise. The worker is
// supervised (util/supervised-worker.ts): when it dies, the searches in flight fail, and a new thread opens
// the same index again, so the service recovers by itself; health() says how it stands. Concurrent searches
// share one call (search-batcher.ts).
import { Worker } from 'node:worker_threads';
import { InputError, UsageError } from '../../util/errors.js';
import { withoutFaults } from '../../util/fault.js';
import { type PartHealth, type Settled, SupervisedWorker } from '../../util/supervised-worker.js';
import type { RowHits } from '../rescore.js';
import { SearchTimeoutError } from '../search-timeout.js';
import type { EngineData, EngineQuery } from './engine.js';
import type { EngineReply } from './engine-worker.js';
import type { HnswBuildRequest, HnswBuildResult } from './hnsw-build.js';
import { SearchBatcher } from './search-batcher.js';

const BOOT = new URL('./engine-worker-boot.mjs', import.meta.url);

const ERRORS: Record<string, new (message: string) => Error> = {
  UsageError,
  InputError,
  FormatError: InputError,
  SearchTimeoutError,
};

function settle(m: unknown): Settled | undefined {
  const reply = m as EngineReply;
  if (typeof reply?.id !== 'number') return undefined;
  if (reply.ok) return { id: reply.id, value: reply.result };
  const E = ERRORS[reply.kind] ?? Error;
  return { id: reply.id, error: new E(reply.message) };
}

export interface EngineClientOptions {
  /** Where restarts of the worker are reported (default stderr). */
  log?: (line: string) => void;
}

export class EngineClient {
  readonly #worker: SupervisedWorker;
  #data: EngineData | null = null;
  readonly #batcher = new SearchBatcher<RowHits>(
    (queries, nq, query) => this.#worker.call({ op: 'search', queries, nq, query }) as Promise<RowHits[]>,
  );

  constructor(o: EngineClientOptions = {}) {
    this.#worker = new SupervisedWorker({
      name: 'search worker',
      // A restarted thread runs without injected faults, so that a crash test can watch it recover.
      create: (restart) => new Worker(BOOT, restart ? { env: withoutFaults() } : {}),
      settle,
      init: async (call) => {
        if (this.#data) await call({ op: 'open', data: this.#data });
      },
      log: o.log ?? ((line) => console.error(`normsoftmax: ${line}`)),
    });
  }

  health(): PartHealth {
    return this.#worker.health();
  }

  async open(data: EngineData): Promise<void> {
    await this.#worker.call({ op: 'open', data });
    this.#data = data;
  }

  /** Concurrent searches are sent together (search-batcher.ts). */
  search(queries: Float32Array, nq: number, query: EngineQuery): Promise<RowHits[]> {
    return this.#batcher.search(queries, nq, query);
  }

  /** Engine calls made and queries searched (the mean batch is their ratio). */
  batchStats(): { batches: number; queries: number } {
    return this.#batcher.stats();
  }

  buildHnsw(request: HnswBuildRequest): Promise<HnswBuildResult> {
    return this.#worker.call({ op: 'build-hnsw', request }) as Promise<HnswBuildResult>;
  }

  async close(): Promise<void> {
    if (this.health().state === 'ok') await this.#worker.call({ op: 'close' }).catch(() => undefined);
    await this.#worker.close();
  }
}
