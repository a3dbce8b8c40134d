// Class subsampling for softmax losses over many classes (spec section 2): every class present in the
// batch, plus negatives drawn uniformly without replacement from the other classes until the subset
// has `size` classes. If the batch alone has `size` classes or more, the subset is just those classes.
import type { Rng } from '../util/rng.js';

export interface ClassSubset {
  /** The classes of the subset, distinct and ascending. */
  classes: number[];
  /** Each batch label re-indexed into `classes`. */
  targets: number[];
}

export function sampleClassSubset(labels: readonly number[], numClasses: number, size: number, rng: Rng): ClassSubset {
  const present = [...new Set(labels)].sort((a, b) => a - b);
  const wanted = Math.min(size, numClasses) - present.length;
  const negatives = wanted > 0 ? rng.sample(numClasses - present.length, wanted).map((v) => nthAbsent(v, present)) : [];
  const sorted = Int32Array.from([...present, ...negatives]).sort();
  const classes = Array.from(sorted);
  return { classes, targets: labels.map((y) => lowerBound(sorted, y)) };
}

/** Index of the first element >= value in an ascending array. */
function lowerBound(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** labels re-indexed into classes (which must contain every label). */
export function reindex(labels: readonly number[], classes: readonly number[]): number[] {
  const position = new Map(classes.map((c, i) => [c, i]));
  return labels.map((y) => {
    const p = position.get(y);
    if (p === undefined) throw new RangeError(`class subset: label ${y} is not among the subset's classes`);
    return p;
  });
}

/** The v-th (0-based) class that is not in `present` (ascending). */
function nthAbsent(v: number, present: readonly number[]): number {
  let c = v;
  for (const q of present) {
    if (q <= c) c++;
    else break;
  }
  return c;
}
