// Precision@1, R-Precision and MAP@R of a set searched against itself, one block of score rows at a time:
// memory O(rows x n) whatever R, where the k-NN route (src/eval/knn.ts) keeps n x max R neighbours
// (Fashion-MNIST's test split: 35,000 x 6,999 x 16 bytes, 3.9 GB). Same order as the k-NN search: score
// descending, then index ascending (-0 = +0), the query itself never retrieved.
//
// Each score and its index are packed into one float64 key that sorts in that order (the float's
// order-preserving bits above, the reversed index below), so that a row's R largest keys are found by
// quickselect and put in order by the typed array's numeric sort, with no comparator calls.
import { scope, type Tensor } from '../tensor/index.js';
import { countCodes } from './labels.js';
import { asFloatMatrix } from './matrix.js';

export interface RetrievalAtR {
  /** Fractions in [0, 1], over the queries with R >= 1. */
  precisionAt1: number;
  rPrecision: number;
  mapAtR: number;
  queries: number;
}

/** Index bits below the score in a key: the keys stay below 2^53 (exact in a float64). */
const INDEX_BITS = 21;
export const MAX_ROWS_ITEMS = 2 ** INDEX_BITS;
/** Scores held at once (a block of rows): 64 MB of float32. */
const BLOCK_SCORES = 2 ** 24;

/** Rearranges a so that a[k] is its k-th smallest value, smaller values before it and larger after (Wirth). */
function select(a: Float64Array, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const x = median(a[lo] as number, a[(lo + hi) >> 1] as number, a[hi] as number);
    let i = lo;
    let j = hi;
    do {
      while ((a[i] as number) < x) i++;
      while (x < (a[j] as number)) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < k) lo = i;
    if (k < i) hi = j;
  }
}

function median(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/** `labels`: dense codes 0..C-1, one per row of x. */
export function retrievalAtRSelf(x: Tensor, labels: Int32Array, o: { blockRows?: number } = {}): RetrievalAtR {
  const n = x.size(0);
  if (labels.length !== n) throw new RangeError(`${labels.length} labels for ${n} embeddings`);
  if (n > MAX_ROWS_ITEMS) throw new RangeError(`retrievalAtRSelf: at most ${MAX_ROWS_ITEMS} items, got ${n}`);
  let classes = 0;
  for (const c of labels) classes = Math.max(classes, c + 1);
  const perClass = countCodes(labels, classes);
  const block = o.blockRows ?? Math.max(1, Math.floor(BLOCK_SCORES / n));
  const scale = 2 ** INDEX_BITS;
  const last = scale - 1;
  const keys = new Float64Array(n);
  let p1 = 0;
  let rp = 0;
  let ap = 0;
  let queries = 0;
  scope(() => {
    const e = asFloatMatrix(x, 'embeddings');
    for (let r = 0; r < n; r += block) {
      const rows = Math.min(block, n - r);
      const scores = scope(() => e.narrow(0, r, rows).mm(e.T).toTypedArray() as Float32Array);
      const bits = new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
      for (let i = 0; i < rows; i++) {
        const q = r + i;
        const want = labels[q] as number;
        const R = (perClass[want] as number) - 1;
        if (R < 1) continue;
        const off = i * n;
        for (let j = 0; j < n; j++) {
          let u = bits[off + j] as number;
          if (u === 0x80000000) u = 0; // -0 sorts as +0
          const ordered = u >= 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
          keys[j] = ordered * scale + (last - j);
        }
        keys[q] = -1; // the query itself: below every key
        select(keys, n - R);
        const top = keys.subarray(n - R).sort(); // ascending: the nearest is last
        let hits = 0;
        let sum = 0;
        for (let p = 0; p < R; p++) {
          const j = last - ((top[R - 1 - p] as number) % scale);
          if (labels[j] === want) {
            hits++;
            sum += hits / (p + 1);
            if (p === 0) p1++;
          }
        }
        rp += hits / R;
        ap += sum / R;
        queries++;
      }
    }
  });
  if (queries === 0) return { precisionAt1: Number.NaN, rPrecision: Number.NaN, mapAtR: Number.NaN, queries };
  return { precisionAt1: p1 / queries, rPrecision: rp / queries, mapAtR: ap / queries, queries };
}
