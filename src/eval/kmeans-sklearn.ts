// k-means as scikit-learn's KMeans runs it (algorithm "lloyd", sklearn >= 1.2), seeded with our own
// generator, so the clusters agree with sklearn's statistically (same algorithm), not bit for bit:
// - greedy k-means++ (sklearn's _kmeans_plusplus): the first centre uniform, then for each next centre
//   2 + floor(ln k) candidates sampled by D^2, keeping the one that lowers the potential the most;
// - Lloyd iterations until the labels stop changing or the squared centre shift falls to
//   tol * mean(var(X, axis=0)) (sklearn's _tolerance), at most 300; an empty cluster is moved to the
//   point farthest from its centre (sklearn's _relocate_empty_clusters);
// - labels and inertia from the final centres; n_init 10 restarts keep the lowest inertia.
// The data are centred first, as sklearn does (this changes no distance, only rounding).
import { Generator, rand, randint, scope, type Tensor, tensor, zeros } from '../tensor/index.js';
import { assign, type KMeansResult, positiveInteger } from './kmeans.js';
import { asFloatMatrix } from './matrix.js';

export interface SklearnKMeansOptions {
  /** max_iter (sklearn: 300). */
  iterations?: number;
  /** n_init (sklearn: 10). */
  restarts?: number;
  seed?: number;
  /** tol, relative to the mean per-feature variance (sklearn: 1e-4). */
  tolerance?: number;
}

export const SKLEARN_KMEANS_DEFAULTS = { iterations: 300, restarts: 10, seed: 0, tolerance: 1e-4 } as const;

/** First index i with cumulative[i] >= value (numpy's searchsorted, side 'left'), clipped to n - 1. */
function searchSorted(cumulative: Float64Array, value: number): number {
  let lo = 0;
  let hi = cumulative.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, cumulative.length - 1);
}

/** Squared distances [n, m] of the rows of x to the rows of c. */
function squaredDistances(x: Tensor, xx: Tensor, c: Tensor): Tensor {
  return scope(() => xx.unsqueeze(1).sub(x.mm(c.T), 2).add(c.square().sum(1).unsqueeze(0)).clamp(0));
}

/** Greedy k-means++ centres [k, d] of x (centred), xx its squared row norms. */
export function greedyKMeansPlusPlus(x: Tensor, xx: Tensor, k: number, gen: Generator): Tensor {
  const n = x.size(0);
  const trials = 2 + Math.floor(Math.log(k));
  const centres = zeros([k, x.size(1)]);
  let closest = scope(() => {
    const first = x.indexSelect(0, randint(0, n, [1], { generator: gen }));
    centres.narrow(0, 0, 1).copy_(first);
    return squaredDistances(x, xx, first).squeeze(1);
  });
  for (let c = 1; c < k; c++) {
    const next = scope(() => {
      const cumulative = closest.cumsum(0).to('float64').toTypedArray() as Float64Array;
      const potential = cumulative[n - 1] as number;
      const draws = rand([trials], { generator: gen, dtype: 'float64' }).toTypedArray() as Float64Array;
      // With fewer than k distinct points the potential can reach 0: candidates are then drawn uniformly.
      const ids =
        potential > 0
          ? Array.from(draws, (u) => searchSorted(cumulative, u * potential))
          : Array.from(draws, (u) => Math.min(n - 1, Math.floor(u * n)));
      const candidates = x.indexSelect(0, tensor(ids, { dtype: 'int64' }));
      const lowered = squaredDistances(x, xx, candidates).minimum(closest.unsqueeze(1));
      const best = lowered.sum(0, false, 'float64').argmin().item() as number;
      centres.narrow(0, c, 1).copy_(candidates.narrow(0, best, 1));
      return lowered.select(1, best).contiguous();
    });
    closest.dispose();
    closest = next;
  }
  closest.dispose();
  return centres;
}

/** New centres: the means of the clusters, an empty cluster taking the point farthest from its centre. */
function updateCentres(x: Tensor, labels: Tensor, centres: Tensor): Tensor {
  return scope(() => {
    const k = centres.size(0);
    const sums = zeros([k, x.size(1)]).indexAdd_(0, labels, x);
    const counts = Float32Array.from(
      zeros([k])
        .indexAdd_(0, labels, zeros([x.size(0)]).add(1))
        .toTypedArray() as Float32Array,
    );
    const empty: number[] = [];
    counts.forEach((c, j) => {
      if (c === 0) empty.push(j);
    });
    if (empty.length > 0) {
      const far = x.sub(centres.indexSelect(0, labels)).square().sum(1).topk(empty.length).indices;
      const farIds = far.toTypedArray() as BigInt64Array;
      const farLabels = labels.indexSelect(0, far).toTypedArray() as BigInt64Array;
      empty.forEach((j, i) => {
        const p = Number(farIds[i]);
        const from = Number(farLabels[i]);
        const row = x.narrow(0, p, 1);
        sums.narrow(0, from, 1).sub_(row);
        counts[from] = (counts[from] as number) - 1;
        sums.narrow(0, j, 1).copy_(row);
        counts[j] = 1;
      });
    }
    return sums.div(tensor(counts).clamp(1).unsqueeze(1));
  });
}

function runOnce(x: Tensor, xx: Tensor, k: number, o: Required<SklearnKMeansOptions>, tol: number, gen: Generator) {
  return scope((): KMeansResult => {
    let centres = greedyKMeansPlusPlus(x, xx, k, gen);
    let previous: Tensor | null = null;
    let iterations = 0;
    while (iterations < o.iterations) {
      const { assignments } = assign(x, xx, centres);
      const next = updateCentres(x, assignments, centres);
      const shift = scope(() => next.sub(centres).square().sum(undefined, false, 'float64').item() as number);
      centres.dispose();
      centres = next;
      iterations++;
      const unchanged = previous !== null && previous.eq(assignments).all().item() === 1;
      previous?.dispose();
      previous = assignments;
      if (unchanged || shift <= tol) break;
    }
    const final = assign(x, xx, centres);
    return {
      assignments: final.assignments.to('int32').toTypedArray() as Int32Array,
      inertia: final.inertia,
      iterations,
    };
  });
}

/** Clusters the rows of x [n, d] into k groups the way scikit-learn's KMeans does. */
export function kmeansSklearn(x: Tensor, k: number, options: SklearnKMeansOptions = {}): KMeansResult {
  const d = SKLEARN_KMEANS_DEFAULTS;
  const o: Required<SklearnKMeansOptions> = {
    iterations: options.iterations ?? d.iterations,
    restarts: options.restarts ?? d.restarts,
    seed: options.seed ?? d.seed,
    tolerance: options.tolerance ?? d.tolerance,
  };
  positiveInteger('iterations', o.iterations);
  positiveInteger('restarts', o.restarts);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new RangeError(`k-means: seed must be a non-negative integer`);
  if (!(o.tolerance >= 0)) throw new RangeError(`k-means: tolerance must be >= 0, got ${o.tolerance}`);
  return scope(() => {
    const raw = asFloatMatrix(x, 'k-means input');
    const n = raw.size(0);
    positiveInteger('k', k);
    if (k > n) throw new RangeError(`k-means: k = ${k} exceeds the ${n} points`);
    const data = raw.sub(raw.mean(0, true));
    const tol = o.tolerance * (data.var(0, { unbiased: false }).mean().item() as number);
    const xx = data.square().sum(1);
    const gen = new Generator(o.seed);
    let best: KMeansResult | null = null;
    for (let r = 0; r < o.restarts; r++) {
      const result = runOnce(data, xx, k, o, tol, gen);
      if (best === null || result.inertia < best.inertia) best = result;
    }
    return best as KMeansResult;
  });
}
