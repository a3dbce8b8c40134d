// Wall-clock timing for benchmarks: one sample runs a body many times; medians summarise samples.

/** Runs body(iterations) once and returns the nanoseconds it took per iteration. */
export function timePerIteration(body: (iterations: number) => void, iterations: number): number {
  const start = process.hrtime.bigint();
  body(iterations);
  return Number(process.hrtime.bigint() - start) / iterations;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median() of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Rounds for JSON output: enough digits to compare, not so many that they mislead. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * One round of a comparison: ours then the reference in even rounds, the other way round in odd ones, so
 * that load from other work (or a warm cache) falls on both sides alike.
 */
export async function inTurn(
  round: number,
  ours: () => unknown | Promise<unknown>,
  reference: () => unknown | Promise<unknown>,
): Promise<void> {
  const [first, second] = round % 2 === 0 ? [ours, reference] : [reference, ours];
  await first();
  await second();
}
