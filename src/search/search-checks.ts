// What both backends check in a search before they search, with the same messages: k, mode, oversample, ef
// (a UsageError naming the field) and the query vectors (an InputError for a wrong length or a zero or
// non-finite vector; searched at unit length).
import { InputError, UsageError } from '../util/errors.js';
import { checkedEf } from './graph-settings.js';
import type { SearchMode, SearchRequest } from './types.js';

/** Rerank: Hamming candidates = oversample x k, re-scored with the float vectors. */
export const DEFAULT_OVERSAMPLE = 4;
const MODES: readonly SearchMode[] = ['float', 'binary', 'rerank'];

/** k, mode, oversample (default DEFAULT_OVERSAMPLE) and ef (null: the index's) of a request, checked. */
export function checkedRequest(request: SearchRequest): {
  k: number;
  mode: SearchMode;
  oversample: number;
  ef: number | null;
} {
  const { k, mode } = request;
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`k: expected a positive integer, got ${k}`);
  if (!MODES.includes(mode)) throw new UsageError(`mode: expected float, binary or rerank, got "${mode}"`);
  const oversample = request.oversample ?? DEFAULT_OVERSAMPLE;
  if (!Number.isInteger(oversample) || oversample < 1)
    throw new UsageError(`oversample: expected a positive integer, got ${oversample}`);
  return { k, mode, oversample, ef: checkedEf(request.ef) ?? null };
}

/** Each query at unit length (new arrays), checked against the index's dim. */
export function unitQueries(queries: readonly Float32Array[], dim: number): Float32Array[] {
  return queries.map((q, i) => {
    if (q.length !== dim) throw new InputError(`query ${i + 1} has ${q.length} values, the index's vectors ${dim}`);
    let ss = 0;
    for (const v of q) ss += v * v;
    if (!(ss > 0) || !Number.isFinite(ss)) throw new InputError(`query ${i + 1} is a zero or non-finite vector`);
    const inv = 1 / Math.sqrt(ss);
    return Float32Array.from(q, (v) => v * inv);
  });
}
