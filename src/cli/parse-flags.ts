// Parsers of flag values: each returns the value or throws a UsageError (exit 2) naming the flag and
// what was expected. Commander hands every value over as a string.
import { UsageError } from '../util/errors.js';

/** A Recall@K list such as "1,2,4,8": positive integers, deduplicated and sorted. */
export function parseKList(value: string, flag = '--k'): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const ks = parts.map(Number);
  if (ks.some((k, i) => parts[i] === '' || !Number.isInteger(k) || k < 1)) {
    throw new UsageError(
      `${flag}: expected a comma-separated list of positive integers such as 1,2,4,8, got "${value}"`,
    );
  }
  return [...new Set(ks)].sort((a, b) => a - b);
}

/** A finite number. */
export function parseNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, got "${value}"`);
  return n;
}

/** An integer of at least `min` (default 1: a positive integer; 0: a non-negative one). */
export function parseInteger(flag: string, value: string, min = 1): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) {
    const kind = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new UsageError(`${flag}: expected ${kind}, got "${value}"`);
  }
  return n;
}

/** parseInteger of an optional flag: `fallback` when it was not given. */
export function optionalInteger<T extends number | undefined>(
  flag: string,
  value: string | undefined,
  fallback: T,
  min = 1,
): number | T {
  return value === undefined ? fallback : parseInteger(flag, value, min);
}

/** An optional integer flag within [min, max] (both inclusive); undefined when not given. */
export function optionalBounded(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}
