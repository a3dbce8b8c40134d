// Gathers concurrent searches into one call to the engine worker, so that a batch of queries shares each
// pass over the stored vectors (the scan kernels score a tile against every query of the batch while it is
// in cache) and one message round trip. While the worker is idle, the searches asked for in one turn of the
// event loop (the requests one poll of the sockets delivered) leave together at setImmediate, so a lone
// search waits for nothing; while a batch is in the worker, the searches that arrive meanwhile wait and
// leave together when it answers (the worker takes one call at a time anyway, so they lose nothing). A
// batch of maxQueries queries leaves at once. Only searches with the same mode, k,
// exact, oversample, ef and filter share a batch (a filter's rows are then scanned once for all of them); the
// batch's deadline is the earliest of theirs. Results are the same as one search at a time: the kernels
// give the same bits and order at any batch size (test/search/search-batcher.test.ts).
import type { EngineQuery } from './engine.js';

/** The engine call a batch goes to: queries nq x dim row-major, one result per query in order. */
export type BatchRunner<H> = (queries: Float32Array, nq: number, query: EngineQuery) => Promise<H[]>;

interface Waiter<H> {
  queries: Float32Array;
  nq: number;
  resolve: (hits: H[]) => void;
  reject: (e: unknown) => void;
}

interface Batch<H> {
  query: EngineQuery;
  waiters: Waiter<H>[];
  nq: number;
}

export const DEFAULT_MAX_BATCH = 256;

function batchKey(q: EngineQuery, dim: number): string {
  return JSON.stringify([q.mode, q.k, q.exact, q.oversample, q.where, q.ef, dim]);
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

export class SearchBatcher<H> {
  readonly #run: BatchRunner<H>;
  readonly #maxQueries: number;
  readonly #open = new Map<string, Batch<H>>();
  #scheduled = false;
  #inFlight = 0;
  #batches = 0;
  #queries = 0;

  constructor(run: BatchRunner<H>, maxQueries = DEFAULT_MAX_BATCH) {
    if (!Number.isInteger(maxQueries) || maxQueries < 1)
      throw new RangeError(`maxQueries must be a positive integer, got ${maxQueries}`);
    this.#run = run;
    this.#maxQueries = maxQueries;
  }

  /** Engine calls made and queries sent so far (their ratio is the mean batch size). */
  stats(): { batches: number; queries: number } {
    return { batches: this.#batches, queries: this.#queries };
  }

  search(queries: Float32Array, nq: number, query: EngineQuery): Promise<H[]> {
    if (nq === 0) return this.#run(queries, 0, query);
    const key = batchKey(query, queries.length / nq);
    return new Promise<H[]>((resolve, reject) => {
      let batch = this.#open.get(key);
      if (!batch) {
        batch = { query, waiters: [], nq: 0 };
        this.#open.set(key, batch);
      } else {
        batch.query = { ...batch.query, deadline: earliest(batch.query.deadline, query.deadline) };
      }
      batch.waiters.push({ queries, nq, resolve, reject });
      batch.nq += nq;
      if (batch.nq >= this.#maxQueries) {
        this.#open.delete(key);
        this.#send(batch);
      } else if (!this.#scheduled && this.#inFlight === 0) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batches = [...this.#open.values()];
    this.#open.clear();
    for (const b of batches) this.#send(b);
  }

  #send(b: Batch<H>): void {
    this.#batches++;
    this.#queries += b.nq;
    this.#inFlight++;
    const one = b.waiters.length === 1 ? b.waiters[0] : undefined;
    const queries = one ? one.queries : new Float32Array(b.waiters.reduce((s, w) => s + w.queries.length, 0));
    if (!one) {
      let at = 0;
      for (const w of b.waiters) {
        queries.set(w.queries, at);
        at += w.queries.length;
      }
    }
    this.#run(queries, b.nq, b.query)
      .then(
        (hits) => {
          let at = 0;
          for (const w of b.waiters) {
            w.resolve(hits.slice(at, at + w.nq));
            at += w.nq;
          }
        },
        (e: unknown) => {
          for (const w of b.waiters) w.reject(e);
        },
      )
      .finally(() => {
        this.#inFlight--;
        if (this.#inFlight === 0 && !this.#scheduled && this.#open.size > 0) this.#flush();
      });
  }
}
