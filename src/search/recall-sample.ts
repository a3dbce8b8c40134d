// The item vectors a build measures its approximate index with (recall@10 against exact search, in the
// manifest): up to RECALL_QUERIES rows, evenly spaced, the same rule for both backends.

export const RECALL_QUERIES = 1000;

export function sampleRows(n: number, max: number): number[] {
  const m = Math.min(n, max);
  return Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
}
