// HNSW indexes with usearch (synchronous native calls: only the engine worker calls these). Float vectors
// use the cosine metric; binary codes the Hamming metric over codeBytes * 8 bits (usearch packs 0/1
// floats itself; its packing is not ours, but Hamming distance does not depend on bit order).
//
// usearch 2.25's multi-threaded add can leave nodes that no search reaches (an open bug), and even a
// single-threaded add leaves a few at 100,000 items. So items are added on one thread, then every item is
// searched by its own vector; one whose top hit is not itself (or an exact duplicate) is removed and added
// again, a few rounds at most. What remains are orphans: they are stored with the index and searched
// exactly beside the graph on every query (engine.ts), so that every item finds itself first.
import usearch from 'usearch';
import { gatherRows } from './exact-search.js';

const { Index } = usearch;
type UIndex = InstanceType<typeof Index>;

export interface HnswParams {
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
}

export const DEFAULT_HNSW: HnswParams = { connectivity: 16, expansionAdd: 128, expansionSearch: 64 };

export interface HnswSpec {
  metric: 'cos' | 'hamming';
  quantization: 'f32' | 'f16' | 'i8' | 'b1';
  dimensions: number;
  params: HnswParams;
}

export function createIndex(spec: HnswSpec): UIndex {
  return new Index({
    dimensions: spec.dimensions,
    metric: spec.metric as never,
    quantization: spec.quantization as never,
    connectivity: spec.params.connectivity,
    expansion_add: spec.params.expansionAdd,
    expansion_search: spec.params.expansionSearch,
    multi: false,
  });
}

function keysOf(rows: ArrayLike<number>): BigUint64Array {
  return BigUint64Array.from(Array.from(rows, (r) => BigInt(r)));
}

/** Rows whose own vector does not find them first (distance above the top hit's, or not returned). */
export function unreachableRows(index: UIndex, data: Float32Array, dims: number, n: number, rows?: number[]): number[] {
  const check = rows ?? Array.from({ length: n }, (_, i) => i);
  const missing: number[] = [];
  const chunk = 4096;
  for (let s = 0; s < check.length; s += chunk) {
    const part = check.slice(s, s + chunk);
    const q = gatherRows(data, dims, part);
    const res = index.search(q, 2, 1) as unknown as { keys: BigUint64Array; distances: Float32Array };
    const all = part.length === 1 ? { keys: res.keys, distances: res.distances } : res;
    part.forEach((r, i) => {
      const k0 = all.keys[i * 2];
      const d0 = all.distances[i * 2] as number;
      // Itself first, or an identical vector first (a tie at distance 0 that the item cannot win).
      const self = k0 === BigInt(r) || (all.keys[i * 2 + 1] === BigInt(r) && d0 === all.distances[i * 2 + 1]);
      if (!self && !(d0 <= 1e-6)) missing.push(r);
    });
  }
  return missing;
}

export interface BuiltHnsw {
  index: UIndex;
  /** Items re-added because their own vector did not find them; and those still unreachable. */
  repaired: number;
  unreachable: number;
  /** The rows still unreachable (ascending): searched exactly beside the graph. */
  orphans: number[];
}

/** Builds an index over n rows of data (n x dims row-major), keys = row numbers, single-threaded add. */
export function buildHnsw(spec: HnswSpec, data: Float32Array, n: number): BuiltHnsw {
  const index = createIndex(spec);
  const dims = spec.dimensions;
  const chunk = 8192;
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    index.add(keysOf(Array.from({ length: m }, (_, i) => s + i)), data.subarray(s * dims, (s + m) * dims), 1);
  }
  let missing = unreachableRows(index, data, dims, n);
  const repaired = missing.length;
  for (let round = 0; round < 3 && missing.length > 0; round++) {
    index.remove(keysOf(missing));
    for (const r of missing) index.add(BigInt(r), data.subarray(r * dims, (r + 1) * dims), 1);
    missing = unreachableRows(index, data, dims, n, missing);
  }
  return { index, repaired, unreachable: missing.length, orphans: [...missing].sort((a, b) => a - b) };
}

export interface HnswHits {
  rows: Int32Array;
  distances: Float32Array;
}

/** The k nearest rows of each query (nq x dims row-major); fewer when the index returns fewer. */
export function searchHnsw(index: UIndex, queries: Float32Array, nq: number, k: number): HnswHits[] {
  const dims = index.dimensions();
  const kk = Math.min(k, index.size());
  if (kk === 0) return Array.from({ length: nq }, () => ({ rows: new Int32Array(0), distances: new Float32Array(0) }));
  const out: HnswHits[] = [];
  for (let q = 0; q < nq; q++) {
    const r = index.search(queries.subarray(q * dims, (q + 1) * dims), kk, 1) as unknown as {
      keys: BigUint64Array;
      distances: Float32Array;
    };
    const count = r.keys.length;
    out.push({
      rows: Int32Array.from(r.keys, (key) => Number(key)).subarray(0, count),
      distances: r.distances.slice(0, count),
    });
  }
  return out;
}

export function loadHnsw(spec: HnswSpec, path: string): UIndex {
  const index = createIndex(spec);
  index.load(path);
  return index;
}

/** Beams besides the build's kept open at once (the least recently used is dropped). */
export const MAX_EF_VIEWS = 4;

/**
 * A saved graph, searched through memory-mapped views of its file (usearch's view(): the graph and its
 * vectors stay in the page cache, and the process's resident memory is the pages searches touch). usearch
 * fixes a search's beam (expansion) when an index object is made, and its JS binding cannot change it, so
 * each beam asked for gets its own view of the same file: the pages are shared, each view adds only its
 * lookup tables (a few tens of bytes per item). The build's beam is always kept; up to MAX_EF_VIEWS others.
 * `map: false` loads the file into the heap instead (one copy per beam).
 */
export class HnswGraph {
  readonly #views = new Map<number, UIndex>();
  readonly #spec: HnswSpec;
  readonly #path: string;
  readonly #map: boolean;

  constructor(spec: HnswSpec, path: string, o: { map?: boolean } = {}) {
    this.#spec = spec;
    this.#path = path;
    this.#map = o.map !== false;
    this.#view(spec.params.expansionSearch);
  }

  /** The beams with a view open now, the build's first. */
  beams(): number[] {
    return [...this.#views.keys()];
  }

  #view(ef: number): UIndex {
    const open = this.#views.get(ef);
    const own = this.#spec.params.expansionSearch;
    if (open) {
      if (ef !== own) {
        this.#views.delete(ef);
        this.#views.set(ef, open);
      }
      return open;
    }
    const index = createIndex({ ...this.#spec, params: { ...this.#spec.params, expansionSearch: ef } });
    if (this.#map) index.view(this.#path);
    else index.load(this.#path);
    this.#views.set(ef, index);
    if (this.#views.size > MAX_EF_VIEWS + 1) {
      const oldest = [...this.#views.keys()].find((b) => b !== own && b !== ef);
      if (oldest !== undefined) this.#views.delete(oldest);
    }
    return index;
  }

  /** The k nearest rows of each query with beam ef (null: the build's). */
  search(queries: Float32Array, nq: number, k: number, ef: number | null): HnswHits[] {
    return searchHnsw(this.#view(ef ?? this.#spec.params.expansionSearch), queries, nq, k);
  }
}
