// Exact search over stored vectors, a batch of queries at a time (native/src/scan.cpp): each tile of the
// stored rows is scored against every query of the batch while it is in cache, then each query keeps its
// top k. The stored matrix is read where it lies (any ArrayBuffer or SharedArrayBuffer, any offset; f16
// and i8 rows as stored, converted in registers), never copied.
//
// Scores (the same to the bit whatever the instruction set, batch, subset or thread count):
//   float queries: dot = fma chain over the components in order (float32, one rounding per step) of the
//     query and the stored row (f16 and i8 values convert exactly); score = dot, times rowScales[row] when
//     given (i8 always: its quantisation scale, or one that also renormalises the row).
//   int8 queries (i8 storage, int8Queries): each query is quantised as src/search/precision.ts quantises
//     rows (qs = max|q| / 127, q8 = round(q / qs)); score = (float(q8 . v) * qs) * rowScales[row], the
//     integer dot product exact (AVX-512 VNNI where the CPU has it).
// Hits are ordered by score descending, then row ascending: evaluation's k-NN order (src/eval/knn.ts).
// Hamming: distance ascending, then row ascending (src/eval/binary.ts).
// The kernels run in the search addon, which loads no libtorch (src/tensor/search-native.ts).
import { defaultScanThreads } from '../scan-threads.js';
import { type SearchAddon, searchNative } from '../search-native.js';
import { checkBoolean, checkInteger, describe } from './check.js';

export const SIMD_LEVELS = ['scalar', 'avx2', 'avx512', 'avx512-vnni'] as const;
/**
 * The kernels' instruction sets: scalar (portable C++, the reference), avx2 (AVX2 + FMA + F16C), avx512
 * (AVX-512 F/BW/VL/DQ), avx512-vnni (int8 queries with AVX-512 VNNI).
 */
export type SimdLevel = (typeof SIMD_LEVELS)[number];

export type StoredPrecision = 'f32' | 'f16' | 'i8';

const STORED_CODE: Record<StoredPrecision, number> = { f32: 0, f16: 1, i8: 2 };
const VALUE_BYTES: Record<StoredPrecision, number> = { f32: 4, f16: 2, i8: 1 };
const ARRAY_TYPES: Record<StoredPrecision, { name: string; is: (x: unknown) => boolean }> = {
  f32: { name: 'Float32Array', is: (x) => x instanceof Float32Array },
  f16: { name: 'Uint16Array', is: (x) => x instanceof Uint16Array },
  i8: { name: 'Int8Array', is: (x) => x instanceof Int8Array },
};

/** n stored rows of dim values, row-major and little-endian. */
export interface StoredVectors {
  precision: StoredPrecision;
  /** f32: a Float32Array; f16: a Uint16Array of IEEE half bits; i8: an Int8Array; or any of them as bytes (Uint8Array). */
  data: Float32Array | Uint16Array | Int8Array | Uint8Array;
  n: number;
  dim: number;
  /** One float32 per row multiplying its dot product: required for i8, optional for f32 and f16. */
  rowScales?: Float32Array | null;
}

/** n packed binary codes of `bytes` bytes each. */
export interface StoredCodes {
  data: Uint8Array;
  n: number;
  bytes: number;
}

export interface ScanOptions {
  /** Hits per query (fewer rows than k: the last slots get row -1). */
  k: number;
  /** The rows every query searches: ascending, in [0, n). Default: all. */
  rows?: Int32Array | null;
  /**
   * The rows each query searches (one entry per query; null: all), instead of `rows`. Queries given the
   * same array object share one pass over its rows.
   */
  rowsPerQuery?: readonly (Int32Array | null)[] | null;
  /** Per query, a row it must not find (its own, when the queries are stored rows); -1: none. */
  selfRows?: Int32Array | null;
  /**
   * Partitions of the rows, scanned on as many threads at once (at most). Default: getNumThreads() where
   * libtorch is loaded in this thread, else NORMSOFTMAX_THREADS, OMP_NUM_THREADS or every core
   * (src/tensor/scan-threads.ts).
   */
  threads?: number;
  /** Default: NORMSOFTMAX_SIMD when set, else the best level this CPU runs. */
  simd?: SimdLevel;
}

export interface InnerProductScanOptions extends ScanOptions {
  /** i8 storage: quantise the queries to int8 too (the fast path; see the top of this file). Default false. */
  int8Queries?: boolean;
}

/** Query i's hits are at [i * k, (i + 1) * k), best first. */
export interface ScanHits {
  nq: number;
  k: number;
  rows: Int32Array;
  /** NaN where the row is -1. */
  scores: Float32Array;
}

export interface HammingHits {
  nq: number;
  k: number;
  rows: Int32Array;
  /** -1 where the row is -1. */
  distances: Int32Array;
}

const MAX_ROWS = 2 ** 31 - 1;
const MAX_DIM = 65536;
const MAX_K = 2 ** 20;
const MAX_THREADS = 1024;
const MAX_QUERIES = 2 ** 24;
/** Bound on nq x k (the hits returned). */
const MAX_HITS = 2 ** 28;
/** Bound on the selection's memory (8-byte words: threads x queries x (2k + 2)): 1 GiB. */
const MAX_SELECTION_WORDS = 2 ** 27;

function checkRows(fn: string, what: string, rows: unknown, n: number): Int32Array {
  if (!(rows instanceof Int32Array)) throw new TypeError(`${fn}: ${what} must be an Int32Array, got ${describe(rows)}`);
  let previous = -1;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    if (r <= previous || r >= n) {
      throw new RangeError(
        `${fn}: ${what} must hold ascending rows in [0, ${n}) without repeats, got ${r} at ${i}` +
          (i > 0 ? ` after ${previous}` : ''),
      );
    }
    previous = r;
  }
  return rows;
}

interface Common {
  k: number;
  nq: number;
  groups: { queries: number[] | null; rows: Int32Array | null }[];
  selfRows: Int32Array | null;
  threads: number;
  level: number;
}

/** What the checks need of the kernels: their levels and default thread count. */
interface KernelDefaults {
  levelCode(fn: string, what: string, level: unknown): number;
  defaultSimdLevel(): SimdLevel;
  defaultThreads(): number;
}

/** Checks the options every scan takes; groups the queries by the rows they search. */
function checkCommon(fn: string, o: ScanOptions, n: number, nq: number, d: KernelDefaults): Common {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${fn}: options must be an object, got ${describe(o)}`);
  const k = checkInteger(fn, 'k', o.k, 1, MAX_K);
  if (nq * k > MAX_HITS)
    throw new RangeError(`${fn}: ${nq} queries x k = ${k} hits are too many; search in smaller batches`);
  const threads =
    o.threads === undefined
      ? Math.min(MAX_THREADS, d.defaultThreads())
      : checkInteger(fn, 'threads', o.threads, 1, MAX_THREADS);
  const level = d.levelCode(fn, 'simd', o.simd === undefined ? d.defaultSimdLevel() : o.simd);
  // Per partition of the rows (4096 at least), each query keeps up to 2 min(k, n) + 2 words.
  const partitions = Math.min(threads, Math.max(1, Math.ceil(n / 4096)));
  if (nq * (2 * Math.min(k, Math.max(1, n)) + 2) * partitions > MAX_SELECTION_WORDS) {
    throw new RangeError(
      `${fn}: ${nq} queries x k = ${k} need too much selection memory; search in smaller batches or with a smaller k`,
    );
  }
  let selfRows: Int32Array | null = null;
  if (o.selfRows !== undefined && o.selfRows !== null) {
    if (!(o.selfRows instanceof Int32Array)) {
      throw new TypeError(`${fn}: selfRows must be an Int32Array, got ${describe(o.selfRows)}`);
    }
    if (o.selfRows.length !== nq) {
      throw new RangeError(`${fn}: selfRows needs one row per query (${nq}), got ${o.selfRows.length}`);
    }
    for (const r of o.selfRows) {
      if (r < -1 || r >= n) throw new RangeError(`${fn}: selfRows must be rows in [0, ${n}) or -1, got ${r}`);
    }
    selfRows = o.selfRows;
  }
  const perQuery = o.rowsPerQuery;
  if (perQuery === undefined || perQuery === null) {
    const rows = o.rows === undefined || o.rows === null ? null : checkRows(fn, 'rows', o.rows, n);
    return { k, nq, groups: [{ queries: null, rows }], selfRows, threads, level };
  }
  if (o.rows !== undefined && o.rows !== null) throw new TypeError(`${fn}: give rows or rowsPerQuery, not both`);
  if (!Array.isArray(perQuery) || perQuery.length !== nq) {
    throw new RangeError(`${fn}: rowsPerQuery needs one entry per query (${nq}), got ${describe(perQuery)}`);
  }
  const byRows = new Map<Int32Array | null, number[]>();
  perQuery.forEach((rows, q) => {
    const key = rows ?? null;
    let members = byRows.get(key);
    if (members === undefined) {
      if (key !== null) checkRows(fn, `rowsPerQuery[${q}]`, key, n);
      members = [];
      byRows.set(key, members);
    }
    members.push(q);
  });
  const groups = [...byRows].map(([rows, queries]) => ({ rows, queries: queries.length === nq ? null : queries }));
  return { k, nq, groups, selfRows, threads, level };
}

/** Runs scanGroup for each group of queries (searching the same rows) and puts the hits in place. */
function eachGroup<Q extends Float32Array | Uint8Array, K extends Float32Array | Int32Array>(
  c: Common,
  queries: Q,
  width: number,
  outRows: Int32Array,
  outKeys: K,
  scanGroup: (
    queries: Q,
    nq: number,
    rows: Int32Array | null,
    self: Int32Array | null,
    oRows: Int32Array,
    oKeys: K,
  ) => void,
): void {
  for (const g of c.groups) {
    if (g.queries === null) {
      scanGroup(queries, c.nq, g.rows, c.selfRows, outRows, outKeys);
      continue;
    }
    const m = g.queries.length;
    const q = new (queries.constructor as new (length: number) => Q)(m * width);
    g.queries.forEach((src, i) => {
      q.set(queries.subarray(src * width, (src + 1) * width), i * width);
    });
    const self = c.selfRows === null ? null : Int32Array.from(g.queries, (src) => c.selfRows?.[src] ?? -1);
    const rows = new Int32Array(m * c.k);
    const keys = new (outKeys.constructor as new (length: number) => K)(m * c.k);
    scanGroup(q, m, g.rows, self, rows, keys);
    g.queries.forEach((dst, i) => {
      outRows.set(rows.subarray(i * c.k, (i + 1) * c.k), dst * c.k);
      outKeys.set(keys.subarray(i * c.k, (i + 1) * c.k), dst * c.k);
    });
  }
}

function checkStored(fn: string, s: StoredVectors): void {
  if (typeof s !== 'object' || s === null) throw new TypeError(`${fn}: stored must be an object, got ${describe(s)}`);
  if (!(s.precision in STORED_CODE)) {
    throw new RangeError(`${fn}: stored.precision must be f32, f16 or i8, got ${describe(s.precision)}`);
  }
  checkInteger(fn, 'stored.n', s.n, 0, MAX_ROWS);
  checkInteger(fn, 'stored.dim', s.dim, 1, MAX_DIM);
  const type = ARRAY_TYPES[s.precision];
  if (!type.is(s.data) && !(s.data instanceof Uint8Array)) {
    throw new TypeError(
      `${fn}: ${s.precision} stored.data must be a ${type.name} or a Uint8Array, got ${describe(s.data)}`,
    );
  }
  const need = s.n * s.dim * VALUE_BYTES[s.precision];
  if (s.data.byteLength !== need) {
    throw new RangeError(
      `${fn}: stored.data holds ${s.data.byteLength} bytes, ${s.n} x ${s.dim} ${s.precision} values need ${need}`,
    );
  }
  if (s.rowScales !== undefined && s.rowScales !== null) {
    if (!(s.rowScales instanceof Float32Array)) {
      throw new TypeError(`${fn}: stored.rowScales must be a Float32Array, got ${describe(s.rowScales)}`);
    }
    if (s.rowScales.length !== s.n) {
      throw new RangeError(`${fn}: stored.rowScales needs one scale per row (${s.n}), got ${s.rowScales.length}`);
    }
  } else if (s.precision === 'i8') {
    throw new TypeError(`${fn}: i8 stored vectors need their rowScales`);
  }
}

/** The scan functions over one addon's kernels (both addons export them: the tests compare the two). */
export interface ScanKernels {
  simdLevels(): SimdLevel[];
  defaultSimdLevel(): SimdLevel;
  scanInnerProduct(stored: StoredVectors, queries: Float32Array, o: InnerProductScanOptions): ScanHits;
  scanHamming(codes: StoredCodes, queries: Uint8Array, o: ScanOptions): HammingHits;
}

/** The scan functions of `addon`; scans that name no thread count use defaultThreads(). */
export function scanKernels(addon: SearchAddon, defaultThreads: () => number): ScanKernels {
  let levelsCache: SimdLevel[] | null = null;

  /** The levels this CPU runs, lowest first (scalar always). */
  function simdLevels(): SimdLevel[] {
    levelsCache ??= addon.scanSimdLevels() as SimdLevel[];
    return [...levelsCache];
  }

  function levelCode(fn: string, what: string, level: unknown): number {
    const code = SIMD_LEVELS.indexOf(level as SimdLevel);
    if (code < 0)
      throw new RangeError(`${fn}: ${what} must be one of ${SIMD_LEVELS.join(', ')}, got ${describe(level)}`);
    const supported = simdLevels();
    if (!supported.includes(level as SimdLevel)) {
      throw new RangeError(`${fn}: ${what} = ${level}: this CPU runs ${supported.join(', ')}`);
    }
    return code;
  }

  /** The level a scan uses when none is given: NORMSOFTMAX_SIMD, else the best this CPU runs. */
  function defaultSimdLevel(): SimdLevel {
    const forced = process.env.NORMSOFTMAX_SIMD;
    if (forced !== undefined && forced !== '') {
      levelCode('NORMSOFTMAX_SIMD', 'the level', forced);
      return forced as SimdLevel;
    }
    return simdLevels().at(-1) as SimdLevel;
  }

  const defaults: KernelDefaults = { levelCode, defaultSimdLevel, defaultThreads };

  /** The k rows with the largest inner product for each query (queries: nq x dim float32, row-major). */
  function scanInnerProduct(stored: StoredVectors, queries: Float32Array, o: InnerProductScanOptions): ScanHits {
    const fn = 'scanInnerProduct()';
    checkStored(fn, stored);
    const { n, dim } = stored;
    if (!(queries instanceof Float32Array)) {
      throw new TypeError(`${fn}: queries must be a Float32Array, got ${describe(queries)}`);
    }
    if (queries.length % dim !== 0) {
      throw new RangeError(`${fn}: queries hold ${queries.length} values, not a whole number of ${dim}-d queries`);
    }
    const nq = queries.length / dim;
    if (nq > MAX_QUERIES) throw new RangeError(`${fn}: at most ${MAX_QUERIES} queries at a time, got ${nq}`);
    for (let i = 0; i < queries.length; i++) {
      if (!Number.isFinite(queries[i])) {
        throw new RangeError(`${fn}: query ${Math.floor(i / dim)} has a non-finite value at ${i % dim}`);
      }
    }
    const int8Queries = o?.int8Queries === undefined ? false : checkBoolean(fn, 'int8Queries', o.int8Queries);
    if (int8Queries && stored.precision !== 'i8') throw new RangeError(`${fn}: int8Queries needs i8 stored vectors`);
    const c = checkCommon(fn, o, n, nq, defaults);
    const rows = new Int32Array(nq * c.k);
    const scores = new Float32Array(nq * c.k);
    eachGroup(c, queries, dim, rows, scores, (q, m, subset, self, oRows, oScores) =>
      addon.scanInnerProduct(
        stored.data,
        n,
        dim,
        STORED_CODE[stored.precision],
        stored.rowScales ?? null,
        q,
        m,
        c.k,
        subset,
        self,
        int8Queries,
        c.threads,
        c.level,
        oRows,
        oScores,
      ),
    );
    return { nq, k: c.k, rows, scores };
  }

  /** The k codes nearest in Hamming distance to each query code (queries: nq x bytes, packed as the codes). */
  function scanHamming(codes: StoredCodes, queries: Uint8Array, o: ScanOptions): HammingHits {
    const fn = 'scanHamming()';
    if (typeof codes !== 'object' || codes === null) {
      throw new TypeError(`${fn}: codes must be an object, got ${describe(codes)}`);
    }
    const n = checkInteger(fn, 'codes.n', codes.n, 0, MAX_ROWS);
    const bytes = checkInteger(fn, 'codes.bytes', codes.bytes, 1, MAX_DIM);
    if (!(codes.data instanceof Uint8Array)) {
      throw new TypeError(`${fn}: codes.data must be a Uint8Array, got ${describe(codes.data)}`);
    }
    if (codes.data.byteLength !== n * bytes) {
      throw new RangeError(
        `${fn}: codes.data holds ${codes.data.byteLength} bytes, ${n} codes of ${bytes} need ${n * bytes}`,
      );
    }
    if (!(queries instanceof Uint8Array))
      throw new TypeError(`${fn}: queries must be a Uint8Array, got ${describe(queries)}`);
    if (queries.length % bytes !== 0) {
      throw new RangeError(`${fn}: queries hold ${queries.length} bytes, not a whole number of ${bytes}-byte codes`);
    }
    const nq = queries.length / bytes;
    if (nq > MAX_QUERIES) throw new RangeError(`${fn}: at most ${MAX_QUERIES} queries at a time, got ${nq}`);
    const c = checkCommon(fn, o, n, nq, defaults);
    const rows = new Int32Array(nq * c.k);
    const distances = new Int32Array(nq * c.k);
    eachGroup(c, queries, bytes, rows, distances, (q, m, subset, self, oRows, oDistances) =>
      addon.scanHamming(codes.data, n, bytes, q, m, c.k, subset, self, c.threads, c.level, oRows, oDistances),
    );
    return { nq, k: c.k, rows, distances };
  }

  return { simdLevels, defaultSimdLevel, scanInnerProduct, scanHamming };
}

const kernels = scanKernels(searchNative, defaultScanThreads);

/** The levels this CPU runs, lowest first (scalar always). */
export function simdLevels(): SimdLevel[] {
  return kernels.simdLevels();
}

/** The level a scan uses when none is given: NORMSOFTMAX_SIMD, else the best this CPU runs. */
export function defaultSimdLevel(): SimdLevel {
  return kernels.defaultSimdLevel();
}

/** The k rows with the largest inner product for each query (queries: nq x dim float32, row-major). */
export function scanInnerProduct(stored: StoredVectors, queries: Float32Array, o: InnerProductScanOptions): ScanHits {
  return kernels.scanInnerProduct(stored, queries, o);
}

/** The k codes nearest in Hamming distance to each query code (queries: nq x bytes, packed as the codes). */
export function scanHamming(codes: StoredCodes, queries: Uint8Array, o: ScanOptions): HammingHits {
  return kernels.scanHamming(codes, queries, o);
}
