// Seeded data for the search and serving benchmarks.
import { normaliseRows } from '../../src/search/precision.js';

/** n x dim rows of seeded uniform noise in [-0.5, 0.5) (an LCG), normalised to unit length. */
export function randomUnit(n: number, dim: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 32 - 0.5;
  }
  return normaliseRows(x, dim);
}
