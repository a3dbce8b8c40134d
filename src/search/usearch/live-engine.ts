// The search engine of a live index, inside the engine worker: the base (a SearchEngine over the generation
// files; none for a LanceDB index, whose base Lance searches) with its tombstoned rows left out, and the
// delta (items put since the base was written) searched exactly beside it, both merged into one list.
// The base is searched for k plus the number of tombstones, so that k rows remain once they are left out;
// compaction bounds that number. Delta rows are numbered after the base's (row = n + slot), so that ties
// order the base first, then the delta by age, and each delta hit carries its item's fields.
import { packCodes } from '../binary-codes.js';
import { compileWhere, type FilterFields, type ItemPredicate } from '../filter.js';
import type { DeltaChange, DeltaState, DeltaStep } from '../live/delta.js';
import type { RowHits } from '../rescore.js';
import type { EngineQuery, SearchEngine } from './engine.js';

export interface LiveHits extends RowHits {
  /** For each hit: the fields of a delta item (rows >= n), null for a base row. */
  items: (FilterFields | null)[];
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let c = 0;
  for (let b = i; b > 0; b >>= 1) c += b & 1;
  return c;
});

const PREDICATES = 16;

/** The delta's items in dense arrays (a dropped slot's place is taken by the last one). */
class DeltaStore {
  readonly dim: number;
  readonly bytes: number;
  slots: number[] = [];
  fields: FilterFields[] = [];
  readonly #at = new Map<number, number>();
  #vectors: Float32Array;
  #codes: Uint8Array;

  constructor(dim: number) {
    this.dim = dim;
    this.bytes = Math.ceil(dim / 8);
    this.#vectors = new Float32Array(64 * dim);
    this.#codes = new Uint8Array(64 * this.bytes);
  }

  get size(): number {
    return this.slots.length;
  }

  vector(i: number): Float32Array {
    return this.#vectors.subarray(i * this.dim, (i + 1) * this.dim);
  }

  code(i: number): Uint8Array {
    return this.#codes.subarray(i * this.bytes, (i + 1) * this.bytes);
  }

  put(slot: number, vector: Float32Array, fields: FilterFields): void {
    if (this.#at.has(slot)) this.drop(slot);
    const i = this.slots.length;
    if ((i + 1) * this.dim > this.#vectors.length) {
      const grown = new Float32Array(this.#vectors.length * 2);
      grown.set(this.#vectors);
      this.#vectors = grown;
      const codes = new Uint8Array(this.#codes.length * 2);
      codes.set(this.#codes);
      this.#codes = codes;
    }
    this.#vectors.set(vector, i * this.dim);
    this.#codes.set(packCodes(vector, this.dim), i * this.bytes);
    this.slots.push(slot);
    this.fields.push(fields);
    this.#at.set(slot, i);
  }

  drop(slot: number): void {
    const i = this.#at.get(slot);
    if (i === undefined) return;
    const last = this.slots.length - 1;
    if (i !== last) {
      this.#vectors.copyWithin(i * this.dim, last * this.dim, (last + 1) * this.dim);
      this.#codes.copyWithin(i * this.bytes, last * this.bytes, (last + 1) * this.bytes);
      this.slots[i] = this.slots[last] as number;
      this.fields[i] = this.fields[last] as FilterFields;
      this.#at.set(this.slots[i] as number, i);
    }
    this.slots.pop();
    this.fields.pop();
    this.#at.delete(slot);
  }
}

interface Scored {
  row: number;
  score: number;
  fields: FilterFields | null;
}

const byScoreThenRow = (a: Scored, b: Scored) => b.score - a.score || a.row - b.row;

export class LiveEngine {
  readonly #base: SearchEngine | null;
  readonly #n: number;
  readonly #dim: number;
  #version = 0;
  #hidden = new Set<number>();
  #delta: DeltaStore;
  readonly #predicates = new Map<string, ItemPredicate>();

  constructor(base: SearchEngine | null, n: number, dim: number) {
    this.#base = base;
    this.#n = n;
    this.#dim = dim;
    this.#delta = new DeltaStore(dim);
  }

  setState(s: DeltaState): void {
    this.#version = s.version;
    this.#hidden = new Set(s.hidden);
    this.#delta = new DeltaStore(this.#dim);
    for (const p of s.puts) this.#delta.put(p.slot, p.vector, p.fields);
  }

  /** Applies the next change; false when one is missing (the caller sends the whole state). */
  apply(c: DeltaChange): boolean {
    if (c.version <= this.#version) return true;
    if (c.version !== this.#version + 1) return false;
    for (const s of c.steps) this.#step(s);
    this.#version = c.version;
    return true;
  }

  #step(s: DeltaStep): void {
    if (s.t === 'hide') this.#hidden.add(s.row);
    else if (s.t === 'put') this.#delta.put(s.slot, s.vector, s.fields);
    else this.#delta.drop(s.slot);
  }

  /** queries: nq x dim row-major, unit length. */
  search(queries: Float32Array, nq: number, q: EngineQuery): LiveHits[] {
    const dim = this.#dim;
    const base = this.#searchBase(queries, nq, q);
    const pass = q.where === null ? null : this.#predicate(q.where);
    const delta = this.#delta;
    const candidates: number[] = [];
    for (let i = 0; i < delta.size; i++) if (pass === null || pass(delta.fields[i] as FilterFields)) candidates.push(i);
    return Array.from({ length: nq }, (_, qi) => {
      const query = queries.subarray(qi * dim, (qi + 1) * dim);
      const hits: Scored[] = base[qi] ?? [];
      for (const h of this.#searchDelta(query, candidates, q)) hits.push(h);
      hits.sort(byScoreThenRow);
      const top = hits.slice(0, q.k);
      return {
        rows: Int32Array.from(top, (h) => h.row),
        scores: Float32Array.from(top, (h) => h.score),
        items: top.map((h) => h.fields),
      };
    });
  }

  #searchBase(queries: Float32Array, nq: number, q: EngineQuery): Scored[][] {
    if (this.#base === null || this.#n === 0) return [];
    const hidden = this.#hidden;
    const found = this.#base.search(queries, nq, { ...q, k: q.k + hidden.size });
    return found.map((h) => {
      const out: Scored[] = [];
      for (let j = 0; j < h.rows.length && out.length < q.k; j++) {
        const row = h.rows[j] as number;
        if (!hidden.has(row)) out.push({ row, score: h.scores[j] as number, fields: null });
      }
      return out;
    });
  }

  #searchDelta(query: Float32Array, candidates: number[], q: EngineQuery): Scored[] {
    if (candidates.length === 0) return [];
    const d = this.#delta;
    const dim = this.#dim;
    // Scores in a typed array and a bounded selection: no object per delta item, no sort of the whole delta.
    const dot = (i: number) => {
      const v = d.vector(i);
      let s = 0;
      for (let j = 0; j < dim; j++) s += (query[j] as number) * (v[j] as number);
      return Math.fround(s);
    };
    const rowOf = (i: number) => this.#n + (d.slots[i] as number);
    const scored = (i: number, score: number): Scored => ({
      row: rowOf(i),
      score,
      fields: d.fields[i] as FilterFields,
    });
    const scores = new Float64Array(candidates.length);
    if (q.mode === 'float') {
      for (let c = 0; c < candidates.length; c++) scores[c] = dot(candidates[c] as number);
      return selectBest(scores, (c) => rowOf(candidates[c] as number), q.k).map((c) =>
        scored(candidates[c] as number, scores[c] as number),
      );
    }
    const code = packCodes(query, dim);
    for (let c = 0; c < candidates.length; c++) {
      const own = d.code(candidates[c] as number);
      let diff = 0;
      for (let b = 0; b < own.length; b++)
        diff += POPCOUNT[((own[b] as number) ^ (code[b] as number)) & 0xff] as number;
      scores[c] = dim - diff;
    }
    const binary = selectBest(
      scores,
      (c) => rowOf(candidates[c] as number),
      q.mode === 'binary' ? q.k : q.k * q.oversample,
    );
    if (q.mode === 'binary') return binary.map((c) => scored(candidates[c] as number, scores[c] as number));
    return best(
      binary.map((c) => scored(candidates[c] as number, dot(candidates[c] as number))),
      q.k,
    );
  }

  #predicate(where: string): ItemPredicate {
    let p = this.#predicates.get(where);
    if (!p) {
      p = compileWhere(where);
      this.#predicates.set(where, p);
      if (this.#predicates.size > PREDICATES) this.#predicates.delete(this.#predicates.keys().next().value as string);
    }
    return p;
  }

  close(): void {
    this.#base?.close();
  }
}

/**
 * The positions of the k best scores, best first (ties: the lower row first), by a bounded heap whose root is
 * the worst kept: n log k instead of sorting all n.
 */
export function selectBest(scores: Float64Array, rowOf: (i: number) => number, k: number): number[] {
  const n = scores.length;
  const worse = (a: number, b: number) => {
    const sa = scores[a] as number;
    const sb = scores[b] as number;
    return sa < sb || (sa === sb && rowOf(a) > rowOf(b));
  };
  const heap: number[] = [];
  const down = (from: number) => {
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < heap.length && worse(heap[l] as number, heap[w] as number)) w = l;
      if (r < heap.length && worse(heap[r] as number, heap[w] as number)) w = r;
      if (w === i) return;
      [heap[i], heap[w]] = [heap[w] as number, heap[i] as number];
      i = w;
    }
  };
  for (let i = 0; i < n; i++) {
    if (heap.length < k) {
      heap.push(i);
      let c = heap.length - 1;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(heap[c] as number, heap[p] as number)) break;
        [heap[c], heap[p]] = [heap[p] as number, heap[c] as number];
        c = p;
      }
    } else if (k > 0 && worse(heap[0] as number, i)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}

/** The k best, by score then row. */
function best<T extends Scored>(hits: T[], k: number): T[] {
  hits.sort(byScoreThenRow);
  return hits.length > k ? hits.slice(0, k) : hits;
}
