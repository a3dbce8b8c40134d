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
    const dot = (i: number) => {
      const v = d.vector(i);
      let s = 0;
      for (let j = 0; j < this.#dim; j++) s += (query[j] as number) * (v[j] as number);
      return s;
    };
    const scored = (i: number, score: number): Scored => ({
      row: this.#n + (d.slots[i] as number),
      score,
      fields: d.fields[i] as FilterFields,
    });
    if (q.mode === 'float')
      return best(
        candidates.map((i) => scored(i, Math.fround(dot(i)))),
        q.k,
      );
    const code = packCodes(query, this.#dim);
    const common = (i: number) => {
      const c = d.code(i);
      let diff = 0;
      for (let b = 0; b < c.length; b++) diff += POPCOUNT[((c[b] as number) ^ (code[b] as number)) & 0xff] as number;
      return this.#dim - diff;
    };
    const binary = best(
      candidates.map((i) => ({ ...scored(i, common(i)), i })),
      q.mode === 'binary' ? q.k : q.k * q.oversample,
    );
    if (q.mode === 'binary') return binary;
    return best(
      binary.map((h) => ({ ...h, score: Math.fround(dot((h as Scored & { i: number }).i)) })),
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

/** The k best, by score then row. */
function best<T extends Scored>(hits: T[], k: number): T[] {
  hits.sort(byScoreThenRow);
  return hits.length > k ? hits.slice(0, k) : hits;
}
