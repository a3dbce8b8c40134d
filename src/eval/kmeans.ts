// Lloyd's k-means on the engine, seeded: k-means++ (or uniform random) initialisation, a fixed maximum
// of iterations, several restarts keeping the lowest inertia (sum of squared distances to the
// assigned centroid). Distances come from matmuls in row tiles, so memory stays bounded for large k.
//
// An iteration that changes no assignment has converged (the centroids would not move), so the loop
// stops there: the result equals running all iterations. A cluster left empty keeps its centroid.
import { Generator, multinomial, randint, scope, type Tensor, zeros } from '../tensor/index.js';
import { asFloatMatrix } from './matrix.js';

export interface KMeansOptions {
  /** Maximum Lloyd iterations per restart (the reference: 300). */
  iterations?: number;
  /** Independent initialisations; the lowest inertia wins (the reference: 10). */
  restarts?: number;
  seed?: number;
  init?: 'kmeans++' | 'random';
}

export interface KMeansResult {
  /** Cluster of each row, 0..k-1. */
  assignments: Int32Array;
  inertia: number;
  /** Iterations the winning restart ran (fewer than the maximum when it converged). */
  iterations: number;
}

export const KMEANS_DEFAULTS = { iterations: 300, restarts: 10, seed: 0, init: 'kmeans++' } as const;

const TILE_ELEMENTS = 1 << 24;

export function positiveInteger(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`k-means: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** Squared distances of every row of x to one point c [1, d], via ||x||^2 - 2 x.c + ||c||^2. */
function squaredDistancesTo(x: Tensor, xx: Tensor, c: Tensor): Tensor {
  return scope(() => xx.sub(x.mm(c.T).squeeze(1), 2).add(c.square().sum()).clamp(0));
}

function initKMeansPlusPlus(x: Tensor, xx: Tensor, k: number, gen: Generator): Tensor {
  const n = x.size(0);
  const centroids = zeros([k, x.size(1)]);
  let minDist = scope(() => {
    const point = x.indexSelect(0, randint(0, n, [1], { generator: gen }));
    centroids.narrow(0, 0, 1).copy_(point);
    return squaredDistancesTo(x, xx, point);
  });
  for (let c = 1; c < k; c++) {
    const next = scope(() => {
      // With fewer than k distinct points every distance can reach 0: fall back to a uniform draw.
      const pick =
        minDist.sum().item() > 0 ? multinomial(minDist, 1, false, gen) : randint(0, n, [1], { generator: gen });
      const point = x.indexSelect(0, pick);
      centroids.narrow(0, c, 1).copy_(point);
      return squaredDistancesTo(x, xx, point).minimum(minDist);
    });
    minDist.dispose();
    minDist = next;
  }
  minDist.dispose();
  return centroids;
}

function initRandom(x: Tensor, k: number, gen: Generator): Tensor {
  return scope(() => {
    // k distinct rows, uniformly: the first k of a seeded permutation drawn through multinomial.
    const weights = zeros([x.size(0)]).add(1);
    return x.indexSelect(0, multinomial(weights, k, false, gen));
  });
}

export interface Assignment {
  assignments: Tensor;
  inertia: number;
}

/** Nearest centroid of each row (int64) and the inertia; xx = squared norms of the rows of x. */
export function assign(x: Tensor, xx: Tensor, centroids: Tensor): Assignment {
  return scope(() => {
    const n = x.size(0);
    const k = centroids.size(0);
    const cc = centroids.square().sum(1);
    const rows = Math.max(1, Math.floor(TILE_ELEMENTS / k));
    const parts: Tensor[] = [];
    let inertia = 0;
    for (let r = 0; r < n; r += rows) {
      const len = Math.min(rows, n - r);
      const [indices, total] = scope(() => {
        const dist = cc.unsqueeze(0).sub(x.narrow(0, r, len).mm(centroids.T), 2);
        const best = dist.min(1);
        const sum = best.values
          .add(xx.narrow(0, r, len))
          .clamp(0)
          .sum(undefined, false, 'float64')
          .item();
        return [best.indices, sum] as const;
      });
      parts.push(indices);
      inertia += total;
    }
    const all = parts.length === 1 ? (parts[0] as Tensor) : catRows(parts);
    return { assignments: all, inertia };
  });
}

function catRows(parts: Tensor[]): Tensor {
  const n = parts.reduce((s, p) => s + p.size(0), 0);
  const out = zeros([n], { dtype: 'int64' });
  let at = 0;
  for (const p of parts) {
    out.narrow(0, at, p.size(0)).copy_(p);
    at += p.size(0);
  }
  return out;
}

function updateCentroids(x: Tensor, assignments: Tensor, centroids: Tensor): Tensor {
  return scope(() => {
    const k = centroids.size(0);
    const sums = zeros([k, x.size(1)]).indexAdd_(0, assignments, x);
    const counts = zeros([k]).indexAdd_(0, assignments, zeros([x.size(0)]).add(1));
    const means = sums.div(counts.clamp(1).unsqueeze(1));
    const empty = counts.eq(0).unsqueeze(1);
    return means.add(centroids.mul(empty));
  });
}

function runOnce(x: Tensor, xx: Tensor, k: number, o: Required<KMeansOptions>, gen: Generator): KMeansResult {
  return scope(() => {
    let centroids = o.init === 'kmeans++' ? initKMeansPlusPlus(x, xx, k, gen) : initRandom(x, k, gen);
    let previous: Tensor | null = null;
    let current = assign(x, xx, centroids);
    let iterations = 0;
    while (iterations < o.iterations) {
      if (previous !== null && previous.eq(current.assignments).all().item() === 1) break;
      const next = updateCentroids(x, current.assignments, centroids);
      centroids.dispose();
      centroids = next;
      previous?.dispose();
      previous = current.assignments;
      current = assign(x, xx, centroids);
      iterations++;
    }
    return {
      assignments: current.assignments.to('int32').toTypedArray() as Int32Array,
      inertia: current.inertia,
      iterations,
    };
  });
}

/** Clusters the rows of x [n, d] into k groups. */
export function kmeans(x: Tensor, k: number, options: KMeansOptions = {}): KMeansResult {
  const o: Required<KMeansOptions> = { ...KMEANS_DEFAULTS, ...options };
  positiveInteger('iterations', o.iterations);
  positiveInteger('restarts', o.restarts);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new RangeError(`k-means: seed must be a non-negative integer`);
  if (o.init !== 'kmeans++' && o.init !== 'random') throw new RangeError(`k-means: init must be kmeans++ or random`);
  return scope(() => {
    const data = asFloatMatrix(x, 'k-means input');
    const n = data.size(0);
    positiveInteger('k', k);
    if (k > n) throw new RangeError(`k-means: k = ${k} exceeds the ${n} points`);
    const xx = data.square().sum(1);
    const gen = new Generator(o.seed);
    let best: KMeansResult | null = null;
    for (let r = 0; r < o.restarts; r++) {
      const result = runOnce(data, xx, k, o, gen);
      if (best === null || result.inertia < best.inertia) best = result;
    }
    return best as KMeansResult;
  });
}
