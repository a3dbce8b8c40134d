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

/**
 * n x dim unit rows around `clusters` seeded Gaussian centres (the same centres for every `seed`: items, puts
 * and queries of one distribution) plus Gaussian noise of `noise` per coordinate, as embeddings cluster:
 * uniform noise in 128-d has no neighbourhoods worth the name, and an HNSW graph's recall@10 over it falls
 * with n (0.78 at 30,000 items, 0.56 at 100,000), which is not what an index of embeddings sees.
 */
export function clusteredUnit(n: number, dim: number, seed: number, clusters = 1000, noise = 1): Float32Array {
  const lcg = (start: number) => {
    let s = start >>> 0;
    return () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return (s + 0.5) / 2 ** 32;
    };
  };
  const gauss = (u: () => number) => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const cu = lcg(0x5eed);
  const centres = Float32Array.from({ length: clusters * dim }, () => gauss(cu));
  const u = lcg(seed);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(u() * clusters);
    for (let j = 0; j < dim; j++) x[i * dim + j] = (centres[c * dim + j] as number) + noise * gauss(u);
  }
  return normaliseRows(x, dim);
}
