// The search engine over one index's arrays: exact float / binary search with the scan kernels, HNSW
// search with usearch, rerank, and `where` filters over the items' metadata (a filter's matching rows are
// searched exactly). Synchronous: it runs inside the engine worker (engine-worker.ts) so that the caller's
// event loop never waits on it, and a filter's scan stops at the query's deadline.

import type { FileIdentity } from '../../io/mapped-file.js';
import type { StoredVectors } from '../../tensor/kernels/scan.js';
import { packCodes } from '../binary-codes.js';
import { compileWhere, type FilterFields } from '../filter.js';
import { type RowHits, rescore } from '../rescore.js';
import { SearchTimeoutError } from '../search-timeout.js';
import type { SearchMode, VectorPrecision } from '../types.js';
import { exactBinary, exactFloat, int8Rows, unpackCodes } from './exact-search.js';
import { HnswGraph, type HnswSpec } from './hnsw.js';

/** Filters whose matching rows are kept (the most recently used), so that a repeated filter is not rescanned. */
const FILTER_CACHE_ENTRIES = 16;
/** Items between two looks at the clock during a filter's scan. */
const DEADLINE_EVERY = 64;

export interface EngineData {
  n: number;
  dim: number;
  /** n x dim unit vectors (dequantised), row-major; usually a view of a SharedArrayBuffer. */
  vectors: Float32Array;
  /**
   * The f32 vectors file the vectors are (then `vectors` is empty in a message): the worker maps it itself,
   * checking that it is the file verified (mapFile's identity check).
   */
  vectorsFile?: { path: string; identity: FileIdentity };
  /**
   * How the index stores them: i8 is scanned as int8 by exact float search (a quarter of the bytes, int8
   * queries); f32 and f16 scan the float32 vectors. Default f32.
   */
  precision?: VectorPrecision;
  /** n x ceil(dim / 8) packed codes. */
  codes: Uint8Array;
  hnswFloat: HnswData | null;
  hnswBinary: HnswData | null;
  /** The fields filters test, by row. */
  items: readonly FilterFields[];
}

export interface HnswData {
  spec: HnswSpec;
  path: string;
  /** Rows the graph cannot reach (ascending): searched exactly beside it, so every item can be found. */
  orphans: Int32Array;
}

export interface EngineQuery {
  mode: SearchMode;
  k: number;
  exact: boolean;
  oversample: number;
  /** Search only the items this filter (filter.ts) matches; null: every item. */
  where: string | null;
  /** Date.now() after which the search stops with a SearchTimeoutError; null: no limit. */
  deadline: number | null;
  /** The HNSW search beam (expansion); null: the graph's own, as built (the manifest's expansionSearch). */
  ef: number | null;
}

/** What the search itself uses: the rows to search (ascending), or null for every row. */
type RowQuery = Omit<EngineQuery, 'where' | 'deadline'> & { rows: Int32Array | null };

function byScoreThenRow(hits: { rows: Int32Array; scores: Float32Array }): RowHits {
  const order = Array.from(hits.rows.keys()).sort(
    (a, b) =>
      (hits.scores[b] as number) - (hits.scores[a] as number) || (hits.rows[a] as number) - (hits.rows[b] as number),
  );
  return {
    rows: Int32Array.from(order, (i) => hits.rows[i] as number),
    scores: Float32Array.from(order, (i) => hits.scores[i] as number),
  };
}

/** Rows of a and b, each once. */
function union(a: Int32Array, b: Int32Array): Int32Array {
  if (b.length === 0) return a;
  return Int32Array.from(new Set([...a, ...b]));
}

function mergeHits(a: { rows: Int32Array; scores: Float32Array }, b: RowHits | null): RowHits {
  if (!b || b.rows.length === 0) return byScoreThenRow(a);
  const seen = new Set(a.rows);
  const rows = [...a.rows];
  const scores = [...a.scores];
  b.rows.forEach((r, i) => {
    if (!seen.has(r)) {
      rows.push(r);
      scores.push(b.scores[i] as number);
    }
  });
  return byScoreThenRow({ rows: Int32Array.from(rows), scores: Float32Array.from(scores) });
}

function topK(h: RowHits, k: number): RowHits {
  return { rows: h.rows.slice(0, k), scores: h.scores.slice(0, k) };
}

export class SearchEngine {
  readonly #d: EngineData;
  /** What exact float search scans: the float32 vectors, or their int8 form. */
  readonly #scanned: Float32Array | StoredVectors;
  readonly #hnswFloat: HnswGraph | null;
  readonly #hnswBinary: HnswGraph | null;
  readonly #filtered = new Map<string, Int32Array>();

  constructor(d: EngineData) {
    this.#d = d;
    this.#scanned = d.precision === 'i8' ? int8Rows(d.vectors, d.dim) : d.vectors;
    this.#hnswFloat = d.hnswFloat ? new HnswGraph(d.hnswFloat.spec, d.hnswFloat.path) : null;
    this.#hnswBinary = d.hnswBinary ? new HnswGraph(d.hnswBinary.spec, d.hnswBinary.path) : null;
  }

  /** queries: nq x dim row-major, unit length. */
  search(queries: Float32Array, nq: number, query: EngineQuery): RowHits[] {
    const { where, deadline, ...rest } = query;
    const q: RowQuery = { ...rest, rows: where === null ? null : this.#rowsMatching(where, deadline) };
    const { dim } = this.#d;
    if (q.mode === 'float') {
      if (this.#hnswFloat && !q.exact && q.rows === null) {
        const orphans = this.#d.hnswFloat?.orphans ?? new Int32Array(0);
        return this.#hnswFloat
          .search(queries, nq, q.k, q.ef)
          .map((h, i) =>
            rescore(this.#d.vectors, dim, queries.subarray(i * dim, (i + 1) * dim), union(h.rows, orphans), q.k),
          );
      }
      return exactFloat(this.#scanned, dim, queries, nq, q.k, q.rows);
    }
    const k = q.mode === 'binary' ? q.k : q.k * q.oversample;
    const binary = this.#binary(packCodes(queries, dim), nq, k, q);
    if (q.mode === 'binary') return binary;
    return binary.map((h, i) => rescore(this.#d.vectors, dim, queries.subarray(i * dim, (i + 1) * dim), h.rows, q.k));
  }

  /** The rows a filter matches, ascending; a scan that passes the deadline stops with a SearchTimeoutError. */
  #rowsMatching(where: string, deadline: number | null): Int32Array {
    const cached = this.#filtered.get(where);
    if (cached) {
      this.#filtered.delete(where);
      this.#filtered.set(where, cached);
      return cached;
    }
    const pass = compileWhere(where);
    const items = this.#d.items;
    const rows: number[] = [];
    for (let i = 0; i < items.length; i++) {
      if (deadline !== null && i % DEADLINE_EVERY === 0 && Date.now() > deadline) {
        throw new SearchTimeoutError(`the filter was still running at the time limit (${i} of ${items.length} items)`);
      }
      if (pass(items[i] as FilterFields)) rows.push(i);
    }
    const matched = Int32Array.from(rows);
    this.#filtered.set(where, matched);
    if (this.#filtered.size > FILTER_CACHE_ENTRIES) this.#filtered.delete(this.#filtered.keys().next().value as string);
    return matched;
  }

  #binary(codes: Uint8Array, nq: number, k: number, q: RowQuery): RowHits[] {
    const { dim } = this.#d;
    if (this.#hnswBinary && !q.exact && q.rows === null) {
      const orphans = this.#d.hnswBinary?.orphans ?? new Int32Array(0);
      const extra = orphans.length > 0 ? exactBinary(this.#d.codes, codes, nq, k, dim, orphans) : null;
      return this.#hnswBinary.search(unpackCodes(codes), nq, k, q.ef).map((h, i) => {
        const graph = { rows: h.rows, scores: Float32Array.from(h.distances, (d) => dim - Math.round(d)) };
        return topK(mergeHits(graph, extra?.[i] ?? null), k);
      });
    }
    return exactBinary(this.#d.codes, codes, nq, k, dim, q.rows);
  }

  /** The graphs' views end with their objects (usearch unmaps on free); the arrays are the caller's. */
  close(): void {}
}
