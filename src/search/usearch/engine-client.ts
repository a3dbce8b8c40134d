// The main-thread side of an engine worker: calls by message id, answers by promise. The worker is
// supervised (util/supervised-worker.ts): when it dies, the searches in flight fail, and a new thread opens
// the same index again, with the live index's whole delta (the delta source), so the service recovers by
// itself; health() says how it stands. Concurrent searches share one call (search-batcher.ts).
import { Worker } from 'node:worker_threads';
import { FailureError, InputError, UsageError } from '../../util/errors.js';
import { withoutFaults } from '../../util/fault.js';
import { type PartHealth, type Settled, SupervisedWorker } from '../../util/supervised-worker.js';
import type { DeltaChange, DeltaState } from '../live/delta.js';
import { SearchTimeoutError } from '../search-timeout.js';
import type { CompactRequest, CompactResult } from './compact.js';
import type { EngineData, EngineQuery } from './engine.js';
import type { EngineReply } from './engine-worker.js';
import type { HnswBuildRequest, HnswBuildResult } from './hnsw-build.js';
import type { LiveHits } from './live-engine.js';
import { SearchBatcher } from './search-batcher.js';

const BOOT = new URL('./engine-worker-boot.mjs', import.meta.url);

const ERRORS: Record<string, new (message: string) => Error> = {
  UsageError,
  InputError,
  FormatError: InputError,
  SearchTimeoutError,
  FailureError,
  DiskFullError: FailureError,
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
  #delta: (() => DeltaState) | null = null;
  readonly #batcher = new SearchBatcher<LiveHits>(
    (queries, nq, query) => this.#worker.call({ op: 'search', queries, nq, query }) as Promise<LiveHits[]>,
  );

  constructor(o: EngineClientOptions = {}) {
    this.#worker = new SupervisedWorker({
      name: 'search worker',
      // A restarted thread runs without injected faults, so that a crash test can watch it recover.
      create: (restart) => new Worker(BOOT, restart ? { env: withoutFaults() } : {}),
      settle,
      init: async (call) => {
        if (this.#data) await call({ op: 'open', data: this.#data });
        if (this.#data && this.#delta) await call({ op: 'delta-state', state: this.#delta() });
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
  search(queries: Float32Array, nq: number, query: EngineQuery): Promise<LiveHits[]> {
    return this.#batcher.search(queries, nq, query);
  }

  /** Engine calls made and queries searched (the mean batch is their ratio). */
  batchStats(): { batches: number; queries: number } {
    return this.#batcher.stats();
  }

  /**
   * Where the whole delta of a live index comes from: sent now, and to every thread started again. Later
   * changes go by applyDelta, in order.
   */
  async setDelta(source: () => DeltaState): Promise<void> {
    this.#delta = source;
    await this.#worker.call({ op: 'delta-state', state: source() });
  }

  /**
   * Sends a change of the delta. A thread that died meanwhile gets the whole delta when it starts again;
   * one that finds a change missing gets it now.
   */
  async applyDelta(change: DeltaChange): Promise<void> {
    let inOrder: unknown;
    try {
      inOrder = await this.#worker.call({ op: 'delta', change });
    } catch {
      return; // the thread died: the restarted one is sent the whole delta
    }
    if (inOrder === false && this.#delta)
      await this.#worker.call({ op: 'delta-state', state: this.#delta() }).catch(() => undefined);
  }

  /**
   * Writes a live index's next generation (compact.ts); the worker then searches it, with no delta yet.
   * The caller gives the data a restarted worker opens (adopt).
   */
  compact(request: CompactRequest): Promise<CompactResult> {
    return this.#worker.call({ op: 'compact', request }) as Promise<CompactResult>;
  }

  /** What a restarted worker opens: the data the worker already has open (after compact). */
  adopt(data: EngineData): void {
    this.#data = data;
  }

  buildHnsw(request: HnswBuildRequest): Promise<HnswBuildResult> {
    return this.#worker.call({ op: 'build-hnsw', request }) as Promise<HnswBuildResult>;
  }

  async close(): Promise<void> {
    if (this.health().state === 'ok') await this.#worker.call({ op: 'close' }).catch(() => undefined);
    await this.#worker.close();
  }
}
