// A JavaScript reference for the scan kernels (src/tensor/kernels/scan.ts): the same scores computed
// with the same roundings (a correctly rounded float32 fma, exact half and int8 conversions), ranked by
// score descending (a NaN above everything, as the kernels' canonical NaN), then row ascending.
import type { StoredVectors } from '../../src/tensor/kernels/scan.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * fma(a, b, c) rounded once to float32, for float32 a, b, c. a * b is exact in a double; the sum's
 * rounding error comes from TwoSum; rounding the sum to odd (to the odd neighbour when inexact) and
 * then to float32 gives the correctly rounded result (53 >= 24 + 2 bits).
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  if (!Number.isFinite(s)) return Math.fround(s);
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (err === 0) return Math.fround(s);
  f64[0] = s;
  if (((u32[0] as number) & 1) === 0) {
    // Step one unit in the last place toward the exact value (s is not 0: the sum is inexact).
    const away = err > 0 === s > 0;
    if (away) u32[0] = (u32[0] as number) + 1;
    else if (u32[0] === 0) {
      u32[0] = 0xffffffff;
      u32[1] = (u32[1] as number) - 1;
    } else u32[0] = (u32[0] as number) - 1;
  }
  return Math.fround(f64[0] as number);
}

export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** The stored rows as float32 values (exact), row-major. */
export function decodeStored(s: StoredVectors): Float32Array {
  const bytes = new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength).slice();
  const count = s.n * s.dim;
  if (s.precision === 'f32') return new Float32Array(bytes.buffer, 0, count);
  if (s.precision === 'f16') return Float32Array.from(new Uint16Array(bytes.buffer, 0, count), halfToNumber);
  return Float32Array.from(new Int8Array(bytes.buffer, 0, count));
}

/** Quantises queries as the int8 path does: qs = fround(max|q| / 127), q8 = clamp(round(q / qs)). */
export function quantizeQueries(q: Float32Array, dim: number): { q8: Int8Array; scales: Float32Array } {
  const nq = q.length / dim;
  const q8 = new Int8Array(q.length);
  const scales = new Float32Array(nq);
  for (let i = 0; i < nq; i++) {
    let max = 0;
    for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(q[i * dim + j] as number));
    const scale = Math.fround(max / 127);
    scales[i] = scale;
    if (scale === 0) continue;
    for (let j = 0; j < dim; j++) {
      q8[i * dim + j] = Math.max(-127, Math.min(127, Math.round((q[i * dim + j] as number) / scale)));
    }
  }
  return { q8, scales };
}

export interface ReferenceOptions {
  k: number;
  rowsPerQuery?: readonly (Int32Array | null)[] | null;
  selfRows?: Int32Array | null;
  int8Queries?: boolean;
}

export interface Hits {
  rows: Int32Array;
  scores: Float32Array;
}

function rankFirst(a: { score: number; row: number }, b: { score: number; row: number }): number {
  const an = Number.isNaN(a.score);
  const bn = Number.isNaN(b.score);
  if (an !== bn) return an ? -1 : 1;
  if (!an && a.score !== b.score) return a.score > b.score ? -1 : 1;
  return a.row - b.row;
}

/** Every query's top k by the kernels' scores and order, computed one pair at a time. */
export function referenceInnerProduct(s: StoredVectors, queries: Float32Array, o: ReferenceOptions): Hits {
  const { dim, n } = s;
  const nq = queries.length / dim;
  const v = decodeStored(s);
  const quantized = o.int8Queries ? quantizeQueries(queries, dim) : null;
  const rows = new Int32Array(nq * o.k).fill(-1);
  const scores = new Float32Array(nq * o.k).fill(Number.NaN);
  for (let q = 0; q < nq; q++) {
    const subset = o.rowsPerQuery?.[q] ?? null;
    const candidates: { score: number; row: number }[] = [];
    const visit = (row: number) => {
      if (o.selfRows && o.selfRows[q] === row) return;
      let score: number;
      if (quantized) {
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += (quantized.q8[q * dim + j] as number) * (v[row * dim + j] as number);
        score = Math.fround(Math.fround(dot) * (quantized.scales[q] as number));
        score = Math.fround(score * (s.rowScales?.[row] as number));
      } else {
        score = 0;
        for (let j = 0; j < dim; j++) score = fmaf(queries[q * dim + j] as number, v[row * dim + j] as number, score);
        if (s.rowScales) score = Math.fround(score * (s.rowScales[row] as number));
      }
      // +0 for -0, and the canonical NaN (positive, quiet), as the kernels report them.
      candidates.push({ score: score === 0 ? 0 : Number.isNaN(score) ? Number.NaN : score, row });
    };
    if (subset) for (const row of subset) visit(row);
    else for (let row = 0; row < n; row++) visit(row);
    candidates.sort(rankFirst);
    candidates.slice(0, o.k).forEach((c, t) => {
      rows[q * o.k + t] = c.row;
      scores[q * o.k + t] = c.score;
    });
  }
  return { rows, scores };
}

/** Float32 bits, so that NaN equals NaN and -0 differs from +0 in assertions. */
export function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

/** A small seeded generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws (Box-Muller) as float32. */
export function gaussian(random: () => number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u = Math.max(random(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return out;
}
