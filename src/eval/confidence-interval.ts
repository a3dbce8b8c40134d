// The mean of a few measurements and its 95% confidence interval by Student's t (what the Reality Check
// reports for the models of its folds): mean +- t(0.975, n - 1) * s / sqrt(n), s the sample standard deviation.

// t(0.975, df) for df = 1..30 (scipy.stats.t.ppf); beyond, the Cornish-Fisher expansion (error < 2e-6).
const T975 = [
  12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139, 2.200985,
  2.178813, 2.160369, 2.144787, 2.13145, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658,
  2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.04523, 2.042272,
];
const Z975 = 1.959963984540054;

/** The 0.975 quantile of Student's t distribution with `df` degrees of freedom. */
export function t975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`degrees of freedom must be a positive integer, got ${df}`);
  const tabled = T975[df - 1];
  if (tabled !== undefined) return tabled;
  const z = Z975;
  return (
    z +
    (z ** 3 + z) / (4 * df) +
    (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2) +
    (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3)
  );
}

export interface MeanInterval {
  mean: number;
  /** Half-width of the 95% confidence interval (mean +- ci95); null for a single value. */
  ci95: number | null;
}

export function meanInterval(values: readonly number[]): MeanInterval {
  const n = values.length;
  if (n === 0) throw new RangeError('no values to average');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, ci95: null };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, ci95: (t975(n - 1) * Math.sqrt(variance)) / Math.sqrt(n) };
}
