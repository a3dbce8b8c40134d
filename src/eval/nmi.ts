// Normalised mutual information between two labelings of the same items (e.g. classes and k-means
// clusters). Natural logarithms; the normalisation divides MI by
//   geometric:  sqrt(H(A) H(B))   (default; the reference's sklearn 0.17 NMI)
//   arithmetic: (H(A) + H(B)) / 2 (sklearn >= 0.22's default)
// As sklearn: 1 when both labelings put everything in one group, 0 when MI is 0.
import { LabelCodes, type LabelsLike } from './labels.js';

export type NmiAverage = 'geometric' | 'arithmetic';

/**
 * The k-means behind NMI, and the normalisation that goes with it by default:
 *   paper:   seeded k-means++ + Lloyd, 300 iterations, 10 restarts (close to the official script's faiss
 *            k-means), geometric mean;
 *   sklearn: scikit-learn's KMeans (greedy k-means++, its tolerance, n_init 10), arithmetic mean (the
 *            default of sklearn's normalized_mutual_info_score). It clusters better and scores higher.
 */
export type NmiMethod = 'paper' | 'sklearn';

export const NMI_METHODS: readonly NmiMethod[] = ['paper', 'sklearn'];

export const NMI_DEFAULT_AVERAGE: Record<NmiMethod, NmiAverage> = { paper: 'geometric', sklearn: 'arithmetic' };

/** One line naming the procedure, for reports. */
export function describeNmiMethod(method: NmiMethod, average: NmiAverage): string {
  const kmeans =
    method === 'paper'
      ? "k-means++ + Lloyd, 300 iterations, 10 restarts (the paper's procedure, as its faiss script)"
      : "scikit-learn's KMeans (greedy k-means++, tol 1e-4, n_init 10)";
  return `NMI method ${method}: ${kmeans}, ${average} mean normalisation`;
}

function entropy(counts: Iterable<number>, total: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * Math.log(c / total);
  return h;
}

export function normalizedMutualInfo(a: LabelsLike, b: LabelsLike, average: NmiAverage = 'geometric'): number {
  const ca = new LabelCodes().encode(a, 'first labeling');
  const codesB = new LabelCodes();
  const cb = codesB.encode(b, 'second labeling');
  if (ca.length !== cb.length) throw new RangeError(`labelings have different lengths: ${ca.length} and ${cb.length}`);
  const n = ca.length;
  const nb = codesB.size;
  const rowSums = new Map<number, number>();
  const colSums = new Map<number, number>();
  const joint = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const x = ca[i] as number;
    const y = cb[i] as number;
    rowSums.set(x, (rowSums.get(x) ?? 0) + 1);
    colSums.set(y, (colSums.get(y) ?? 0) + 1);
    const cell = x * nb + y;
    joint.set(cell, (joint.get(cell) ?? 0) + 1);
  }
  if (rowSums.size === colSums.size && rowSums.size <= 1) return 1;
  let mi = 0;
  for (const [cell, count] of joint) {
    const x = Math.floor(cell / nb);
    const y = cell % nb;
    mi += (count / n) * (Math.log(count * n) - Math.log((rowSums.get(x) as number) * (colSums.get(y) as number)));
  }
  mi = Math.max(mi, 0);
  if (mi === 0) return 0;
  const ha = entropy(rowSums.values(), n);
  const hb = entropy(colSums.values(), n);
  const normalizer = average === 'geometric' ? Math.sqrt(ha * hb) : (ha + hb) / 2;
  return mi / Math.max(normalizer, Number.EPSILON);
}
