// The approximate (HNSW) graph's settings a user chooses, with their bounds, for every backend: M (links per
// node) and efConstruction (the build's beam), recorded in the manifest at build time; ef (the search's
// beam), chosen when an index is opened or per search. One check for the CLI flags, the HTTP fields and the
// library, each naming what it checks.
import { UsageError } from '../util/errors.js';

/** What `index build --hnsw-m / --hnsw-ef-construction` sets (absent: the backend's default). */
export interface GraphSettings {
  m?: number;
  efConstruction?: number;
}

/** Inclusive bounds: below 2 links a graph is a list; past these, memory and build time grow for nothing. */
export const GRAPH_BOUNDS = {
  m: { min: 2, max: 256 },
  efConstruction: { min: 1, max: 4096 },
  ef: { min: 1, max: 4096 },
} as const;

/** An integer within [min, max], or a UsageError naming `name` and the range. */
export function checkedBounded(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return value;
}

/** ef of a search or an open (undefined: the index's own). */
export function checkedEf(value: number | undefined, name = 'ef'): number | undefined {
  return value === undefined ? undefined : checkedBounded(name, value, GRAPH_BOUNDS.ef.min, GRAPH_BOUNDS.ef.max);
}

/** M and efConstruction of a build, checked (names as the library's options: m, efConstruction). */
export function checkedGraphSettings(
  s: GraphSettings | undefined,
  names = { m: 'm', efConstruction: 'efConstruction' },
): GraphSettings {
  const out: GraphSettings = {};
  if (s?.m !== undefined) out.m = checkedBounded(names.m, s.m, GRAPH_BOUNDS.m.min, GRAPH_BOUNDS.m.max);
  if (s?.efConstruction !== undefined)
    out.efConstruction = checkedBounded(
      names.efConstruction,
      s.efConstruction,
      GRAPH_BOUNDS.efConstruction.min,
      GRAPH_BOUNDS.efConstruction.max,
    );
  return out;
}
