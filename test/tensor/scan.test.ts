// The batched exact-search kernels (src/tensor/kernels/scan.ts, native/src/scan*.cpp): every instruction set
// this CPU runs gives, to the bit, the scores of a JavaScript reference with the same roundings, the hits of
// evaluation's k-NN (src/eval/knn.ts, src/eval/binary.ts) where float arithmetic is exact, and the same hits
// whatever the batch, the threads or the alignment of the stored bytes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { test as nodeTest, type TestFn } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { knnHamming, knnHammingSelf } from '../../src/eval/binary.js';
import { knnInnerProduct, knnInnerProductSelf } from '../../src/eval/knn.js';
import { libtorchAddonFile, searchAddonPath } from '../../src/tensor/addon-files.js';
import { scope, tensor } from '../../src/tensor/index.js';
import * as searchKernels from '../../src/tensor/kernels/scan.js';
import {
  type InnerProductScanOptions,
  type ScanHits,
  type ScanKernels,
  type StoredVectors,
  scanKernels,
} from '../../src/tensor/kernels/scan.js';
import { native } from '../../src/tensor/native.js';
import { defaultScanThreads, environmentThreads } from '../../src/tensor/scan-threads.js';
import { type SearchAddon, searchAddonFile, searchNative } from '../../src/tensor/search-native.js';
import { bits, gaussian, type Hits, referenceInnerProduct, seeded } from './scan-reference.js';

function assertSameHits(ours: ScanHits | Hits, expected: Hits, message: string): void {
  assert.deepEqual(ours.rows, expected.rows, `${message}: rows`);
  assert.deepEqual(bits(ours.scores), bits(expected.scores), `${message}: score bits`);
}

/** Values k / 16 for k in [-16, 16]: every product and partial sum below is exact in float32. */
function gridValues(random: () => number, count: number, steps: number): Float32Array {
  return Float32Array.from({ length: count }, () => Math.round((random() * 2 - 1) * steps) / steps);
}

const GRID = (() => {
  const random = seeded(7);
  const n = 600;
  const dim = 40;
  const x = gridValues(random, n * dim, 16);
  // Rows 300..449 repeat rows 0..149: exact ties, between rows far apart.
  x.copyWithin(300 * dim, 0, 150 * dim);
  const q = gridValues(random, 37 * dim, 8);
  return { n, dim, x, q, stored: { precision: 'f32', data: x, n, dim } as StoredVectors };
})();

const RANDOM = (() => {
  const random = seeded(11);
  const n = 1500;
  const dim = 37; // not a multiple of any vector width or of 4
  const f32 = gaussian(random, n * dim);
  // Half floats of every kind: normal, subnormal, zero; one row holds an infinity (scores +-inf or NaN).
  const f16 = Uint16Array.from({ length: n * dim }, () => {
    const sign = random() < 0.5 ? 0x8000 : 0;
    const kind = random();
    if (kind < 0.05) return sign | Math.floor(random() * 0x400); // subnormal or zero
    return sign | ((10 + Math.floor(random() * 7)) << 10) | Math.floor(random() * 0x400);
  });
  f16[5 * dim + 3] = 0x7c00; // +infinity
  f16[5 * dim + 4] = 0xfc00; // -infinity
  const i8 = Int8Array.from({ length: n * dim }, () => Math.floor(random() * 255) - 127);
  const scales = Float32Array.from({ length: n }, () => 0.001 + random() * 0.02);
  const q = gaussian(random, 37 * dim);
  const stores: Record<string, StoredVectors> = {
    f32: { precision: 'f32', data: f32, n, dim },
    'f32 scaled': { precision: 'f32', data: f32, n, dim, rowScales: scales },
    f16: { precision: 'f16', data: f16, n, dim },
    'f16 scaled': { precision: 'f16', data: f16, n, dim, rowScales: scales },
    i8: { precision: 'i8', data: i8, n, dim, rowScales: scales },
  };
  return { n, dim, q, stores };
})();

function popcount8(x: number): number {
  let c = 0;
  for (let v = x; v !== 0; v &= v - 1) c++;
  return c;
}

interface Addon {
  name: string;
  kernels: ScanKernels;
  /** The addon's functions, for the checks C++ does again. */
  direct: SearchAddon;
  /** Set when the tests run another build of this addon. */
  otherBuild: string | undefined;
}

// Every case runs against both addons: the search addon (without libtorch, its own threads), which the
// engine uses, and the libtorch addon (libtorch's threads), which holds the same kernels.
const ADDONS: Addon[] = [
  {
    name: 'search addon',
    kernels: searchKernels,
    direct: searchNative,
    otherBuild: process.env.NORMSOFTMAX_SEARCH_ADDON,
  },
  {
    name: 'libtorch addon',
    kernels: scanKernels(native, () => native.getNumThreads()),
    direct: native,
    otherBuild: process.env.NORMSOFTMAX_ADDON,
  },
];

for (const { name: addonName, kernels, direct, otherBuild } of ADDONS) {
  const { scanInnerProduct, scanHamming, simdLevels, defaultSimdLevel } = kernels;
  const LEVELS = simdLevels();
  const test = (name: string, fn: TestFn) => nodeTest(`${addonName}: ${name}`, fn);

  test('the levels this CPU runs are those its flags allow', () => {
    assert.equal(LEVELS[0], 'scalar');
    const flags = new Set(
      (readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/),
    );
    const x86 = process.arch === 'x64';
    const avx2 = x86 && ['avx2', 'fma', 'f16c'].every((f) => flags.has(f));
    const avx512 = avx2 && ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f));
    const expected = ['scalar', ...(avx2 ? ['avx2'] : []), ...(avx512 ? ['avx512'] : [])];
    if (avx512 && flags.has('avx512_vnni')) expected.push('avx512-vnni');
    // A build with -DNORMSOFTMAX_NO_X86_SIMD (NORMSOFTMAX_ADDON, NORMSOFTMAX_SEARCH_ADDON) runs the scalar
    // kernels only.
    assert.deepEqual(LEVELS, otherBuild ? ['scalar'] : expected);
  });

  test('f32: the hits and scores of evaluation k-NN where the arithmetic is exact, ties by row, at every level', () => {
    const { n, dim, x, q, stored } = GRID;
    const k = 12;
    const eval_ = scope(() =>
      knnInnerProduct(tensor(q, { shape: [q.length / dim, dim] }), tensor(x, { shape: [n, dim] }), k),
    );
    const expected = { rows: eval_.indices, scores: eval_.keys as Float32Array };
    // The data has ties inside the top k (a row and its copy), which must come out in ascending row.
    let ties = 0;
    for (let i = 0; i < expected.rows.length - 1; i++) {
      if ((i + 1) % k !== 0 && expected.scores[i] === expected.scores[i + 1]) ties++;
    }
    assert.ok(ties > 20, `the fixture has ties in the top k (${ties})`);
    for (const simd of LEVELS) assertSameHits(scanInnerProduct(stored, q, { k, simd }), expected, simd);
    assertSameHits(referenceInnerProduct(stored, q, { k }), expected, 'reference');
  });

  test('self-exclusion: every stored row as a query, its own row left out, equals evaluation self-retrieval', () => {
    const { n, dim, x, stored } = GRID;
    const k = 8;
    const eval_ = scope(() => knnInnerProductSelf(tensor(x, { shape: [n, dim] }), k));
    const selfRows = Int32Array.from({ length: n }, (_, i) => i);
    for (const simd of LEVELS) {
      const hits = scanInnerProduct(stored, x, { k, simd, selfRows });
      assertSameHits(hits, { rows: eval_.indices, scores: eval_.keys as Float32Array }, simd);
      // A copy of the query is still found first (rows 0..149 and 300..449 are copies).
      assert.equal(hits.rows[0 * k], 300, `${simd}: the copy of row 0`);
      assert.equal(hits.rows[300 * k], 0, `${simd}: the copy of row 300`);
    }
  });

  test('f32, f16, i8 (float or int8 queries): scores equal to the bit a reference with the same roundings, at every level', () => {
    const { q, stores } = RANDOM;
    const k = 10;
    const dim = RANDOM.dim;
    for (const [name, stored] of Object.entries(stores)) {
      const variants: InnerProductScanOptions[] =
        stored.precision === 'i8' ? [{ k }, { k, int8Queries: true }] : [{ k }];
      for (const o of variants) {
        // 37 queries: across the lanes; 1, 3 and 8: rows across the lanes (a few queries), a shared subset too.
        const expected = referenceInnerProduct(stored, q, o);
        const some = Int32Array.from({ length: 700 }, (_, i) => 2 * i + 1);
        for (const nq of [1, 3, 8, 37]) {
          const few = q.subarray(0, nq * dim);
          const head = { rows: expected.rows.subarray(0, nq * k), scores: expected.scores.subarray(0, nq * k) };
          const subset = referenceInnerProduct(stored, few, { ...o, rowsPerQuery: new Array(nq).fill(some) });
          for (const simd of LEVELS) {
            const label = `${name} ${o.int8Queries ? 'int8 ' : ''}${simd} ${nq} queries`;
            assertSameHits(scanInnerProduct(stored, few, { ...o, simd }), head, label);
            assertSameHits(scanInnerProduct(stored, few, { ...o, simd, rows: some }), subset, `${label}, subset`);
          }
        }
      }
    }
    // Row 5 holds +infinity and -infinity: its score is NaN where the query's components 3 and 4 have the same
    // sign, and NaN ranks first (as evaluation ranks a positive NaN).
    const f16 = scanInnerProduct(stores.f16 as StoredVectors, q, { k });
    let nan = 0;
    for (let i = 0; i < q.length / RANDOM.dim; i++) {
      const same = (q[i * RANDOM.dim + 3] as number) > 0 === (q[i * RANDOM.dim + 4] as number) > 0;
      if (!same) continue;
      nan++;
      assert.equal(f16.rows[i * k], 5, `query ${i}`);
      assert.equal(bits(f16.scores)[i * k], 0x7fc00000, `query ${i}: the canonical NaN`);
    }
    assert.ok(nan > 5, 'some queries score NaN');
  });

  test('one fused multiply-add per component, rounded once: a case where rounding twice differs', () => {
    // a * b + c lands just below a float32 halfway point; rounding the exact value in a double first lands on
    // it and then rounds up to 1 + 2^-22. The chain is fma(a, b, fma(c, 1, 0)) = 1 + 2^-23.
    const a = Math.fround((1 + 2 ** -18) * 2 ** -12);
    const b = Math.fround((1 - 2 ** -18) * 2 ** -12);
    const c = Math.fround(1 + 2 ** -23);
    assert.equal(Math.fround(Math.fround(c) + a * b), 1 + 2 ** -22, 'rounding twice');
    const stored: StoredVectors = { precision: 'f32', data: Float32Array.of(1, b), n: 1, dim: 2 };
    for (const simd of LEVELS) {
      const hits = scanInnerProduct(stored, Float32Array.of(c, a), { k: 1, simd });
      assert.equal(hits.scores[0], 1 + 2 ** -23, simd);
    }
  });

  test('int8 queries: a hand-computed score', () => {
    // q = [0.5, -1, 0.25]: qs = 1/127, q8 = [round(63.5), -127, round(31.75)] = [64, -127, 32];
    // v = [10, -20, 30]: q8 . v = 640 + 2540 + 960 = 4140; score = (4140 * qs) * 0.5.
    const qs = Math.fround(1 / 127);
    const expected = Math.fround(Math.fround(4140 * qs) * 0.5);
    const stored: StoredVectors = {
      precision: 'i8',
      data: Int8Array.of(10, -20, 30),
      n: 1,
      dim: 3,
      rowScales: Float32Array.of(0.5),
    };
    for (const simd of LEVELS) {
      const hits = scanInnerProduct(stored, Float32Array.of(0.5, -1, 0.25), { k: 1, simd, int8Queries: true });
      assert.equal(hits.scores[0], expected, simd);
    }
  });

  test('f32 with arbitrary floats: evaluation k-NN (BLAS, another summation order) within rounding', () => {
    const random = seeded(3);
    const n = 2000;
    const dim = 128;
    const x = gaussian(random, n * dim);
    const q = gaussian(random, 20 * dim);
    const k = 10;
    const eval_ = scope(() => knnInnerProduct(tensor(q, { shape: [20, dim] }), tensor(x, { shape: [n, dim] }), k));
    const scores = eval_.keys as Float32Array;
    for (const simd of LEVELS) {
      const hits = scanInnerProduct({ precision: 'f32', data: x, n, dim }, q, { k, simd });
      let swapped = 0;
      for (let p = 0; p < hits.rows.length; p++) {
        assert.ok(Math.abs((hits.scores[p] as number) - (scores[p] as number)) < 1e-4, `${simd} score ${p}`);
        // A different row only where two neighbours' scores are within rounding of each other.
        if (hits.rows[p] !== eval_.indices[p]) swapped++;
      }
      assert.ok(swapped <= 4, `${simd}: ${swapped} rows differ`);
    }
  });

  test('batches of 1, 16 and 256 and any thread count give the hits of one query at a time', () => {
    const random = seeded(5);
    const n = 3000;
    const dim = 128;
    const x = gaussian(random, n * dim);
    const i8 = Int8Array.from(x, (v) => Math.max(-127, Math.min(127, Math.round(v * 40))));
    const scales = new Float32Array(n).fill(1 / 40);
    const q = gaussian(random, 256 * dim);
    const k = 10;
    const cases: [string, StoredVectors, boolean][] = [
      ['f32', { precision: 'f32', data: x, n, dim }, false],
      ['i8 int8', { precision: 'i8', data: i8, n, dim, rowScales: scales }, true],
    ];
    for (const [name, stored, int8Queries] of cases) {
      for (const simd of LEVELS) {
        const single: number[] = [];
        const singleScores: number[] = [];
        for (let i = 0; i < 256; i++) {
          const h = scanInnerProduct(stored, q.subarray(i * dim, (i + 1) * dim), { k, simd, int8Queries });
          single.push(...h.rows);
          singleScores.push(...h.scores);
        }
        const expected = { rows: Int32Array.from(single), scores: Float32Array.from(singleScores) };
        for (const batch of [16, 256]) {
          for (let b = 0; b < 256; b += batch) {
            const h = scanInnerProduct(stored, q.subarray(b * dim, (b + batch) * dim), { k, simd, int8Queries });
            assertSameHits(
              h,
              {
                rows: expected.rows.subarray(b * k, (b + batch) * k),
                scores: expected.scores.subarray(b * k, (b + batch) * k),
              },
              `${name} ${simd} batch ${batch} at ${b}`,
            );
          }
        }
      }
    }
    // Partitions of the rows (4096 at least each) merge into the same hits; copies 10,000 rows apart tie.
    const m = 30_000;
    const small = 8;
    const y = gaussian(random, m * small);
    y.copyWithin(10_000 * small, 0, 10_000 * small);
    y.copyWithin(20_000 * small, 0, 10_000 * small);
    const stored: StoredVectors = { precision: 'f32', data: y, n: m, dim: small };
    const queries = y.subarray(0, 16 * small);
    const one = scanInnerProduct(stored, queries, { k: 9, threads: 1 });
    const first = one.rows[0] as number;
    assert.deepEqual(Array.from(one.rows.subarray(0, 3)), [first, first + 10_000, first + 20_000], 'copies tie');
    for (const threads of [2, 3, 7]) {
      for (const simd of LEVELS)
        assertSameHits(scanInnerProduct(stored, queries, { k: 9, threads, simd }), one, `${threads} threads`);
    }
  });

  test('stored bytes at any alignment, in a SharedArrayBuffer too, are read in place with the same results', () => {
    const { n, dim, q, stores } = RANDOM;
    for (const name of ['f32', 'f16', 'i8'] as const) {
      const stored = stores[name] as StoredVectors;
      const expected = scanInnerProduct(stored, q, { k: 10 });
      const bytes = new Uint8Array(stored.data.buffer, stored.data.byteOffset, stored.data.byteLength);
      const unaligned = new Uint8Array(bytes.length + 3);
      unaligned.set(bytes, 3);
      const shared = new Uint8Array(new SharedArrayBuffer(bytes.length + 1));
      shared.set(bytes, 1);
      for (const data of [unaligned.subarray(3), shared.subarray(1)]) {
        for (const simd of LEVELS) {
          assertSameHits(scanInnerProduct({ ...stored, data }, q, { k: 10, simd }), expected, `${name} ${simd}`);
        }
      }
    }
    const sharedF32 = new Float32Array(new SharedArrayBuffer(n * dim * 4));
    sharedF32.set((stores.f32 as StoredVectors).data as Float32Array);
    assertSameHits(
      scanInnerProduct({ precision: 'f32', data: sharedF32, n, dim }, q, { k: 5 }),
      scanInnerProduct(stores.f32 as StoredVectors, q, { k: 5 }),
      'Float32Array on a SharedArrayBuffer',
    );
  });

  test('row subsets, shared or per query, with self-exclusion and fewer rows than k', () => {
    const { n, dim, q, stores } = RANDOM;
    const random = seeded(9);
    const subset = (p: number) => Int32Array.from(Array.from({ length: n }, (_, i) => i).filter(() => random() < p));
    const a = subset(0.3);
    const b = subset(0.05);
    const tiny = Int32Array.of(3, 7, 1499);
    const nq = q.length / dim;
    const perQuery = Array.from({ length: nq }, (_, i) => [null, a, b, tiny][i % 4] ?? null);
    const selfRows = Int32Array.from({ length: nq }, (_, i) => (i % 3 === 0 ? (perQuery[i]?.[0] ?? 0) : -1));
    const k = 10;
    for (const name of ['f32', 'f16', 'i8'] as const) {
      const stored = stores[name] as StoredVectors;
      for (const int8Queries of name === 'i8' ? [false, true] : [false]) {
        const shared = referenceInnerProduct(stored, q, { k, rowsPerQuery: perQuery.map(() => a), int8Queries });
        const mixed = referenceInnerProduct(stored, q, { k, rowsPerQuery: perQuery, selfRows, int8Queries });
        for (const simd of LEVELS) {
          assertSameHits(
            scanInnerProduct(stored, q, { k, rows: a, simd, int8Queries }),
            shared,
            `${name} shared ${simd}`,
          );
          assertSameHits(
            scanInnerProduct(stored, q, { k, rowsPerQuery: perQuery, selfRows, simd, int8Queries }),
            mixed,
            `${name} per query ${simd}`,
          );
        }
        // The queries given `tiny` find its 3 rows (2 when one is their own), then -1 and NaN.
        const h = scanInnerProduct(stored, q, { k, rowsPerQuery: perQuery, selfRows, int8Queries });
        assert.deepEqual(
          [...h.rows.subarray(7 * k, 7 * k + 3)].sort((x, y) => x - y),
          [3, 7, 1499],
        );
        assert.deepEqual(Array.from(h.rows.subarray(7 * k + 3, 8 * k)), new Array(k - 3).fill(-1));
        assert.ok(Number.isNaN(h.scores[8 * k - 1]));
        assert.deepEqual(
          [...h.rows.subarray(3 * k, 3 * k + 2)].sort((x, y) => x - y),
          [7, 1499],
          'query 3 is row 3',
        );
        assert.deepEqual(Array.from(h.rows.subarray(3 * k + 2, 4 * k)), new Array(k - 2).fill(-1));
      }
    }
    // No queries, no rows at all.
    const noQueries = scanInnerProduct(stores.f32 as StoredVectors, new Float32Array(0), { k: 3 });
    assert.deepEqual([noQueries.nq, noQueries.rows.length, noQueries.scores.length], [0, 0, 0]);
    const empty = scanInnerProduct(stores.f32 as StoredVectors, q.subarray(0, dim), { k: 2, rows: new Int32Array(0) });
    assert.deepEqual(Array.from(empty.rows), [-1, -1]);
    const none = scanInnerProduct({ precision: 'f32', data: new Float32Array(0), n: 0, dim }, q.subarray(0, dim), {
      k: 1,
    });
    assert.deepEqual(Array.from(none.rows), [-1]);
  });

  test('Hamming: the hits and distances of evaluation (knnHamming), self-exclusion and subsets, at every level', () => {
    const random = seeded(13);
    const n = 2000;
    const bytes = 13;
    const codes = Uint8Array.from({ length: n * bytes }, () => Math.floor(random() * 256) & Math.floor(random() * 256));
    codes.copyWithin(1000 * bytes, 0, 200 * bytes); // exact ties
    const nq = 37;
    const queries = codes.slice(0, nq * bytes);
    const k = 10;
    const stored = { data: codes, n, bytes };
    const eval_ = scope(() =>
      knnHamming(tensor(queries, { shape: [nq, bytes] }), tensor(codes, { shape: [n, bytes] }), k),
    );
    const self = scope(() => knnHammingSelf(tensor(codes, { shape: [n, bytes] }), k));
    const rows = Int32Array.from(Array.from({ length: n }, (_, i) => i).filter(() => random() < 0.2));
    for (const simd of LEVELS) {
      const h = scanHamming(stored, queries, { k, simd });
      assert.deepEqual(h.rows, eval_.indices, simd);
      assert.deepEqual(h.distances, eval_.keys, simd);
      const s = scanHamming(stored, codes, { k, simd, selfRows: Int32Array.from({ length: n }, (_, i) => i) });
      assert.deepEqual(s.rows, self.indices, `${simd} self`);
      assert.deepEqual(s.distances, self.keys, `${simd} self`);
      const sub = scanHamming(stored, queries, { k, simd, rows });
      for (let qi = 0; qi < nq; qi++) {
        const expected = Array.from(rows, (r) => {
          let d = 0;
          for (let j = 0; j < bytes; j++)
            d += popcount8((codes[r * bytes + j] as number) ^ (queries[qi * bytes + j] as number));
          return { r, d };
        })
          .sort((x, y) => x.d - y.d || x.r - y.r)
          .slice(0, k);
        assert.deepEqual(
          Array.from(sub.rows.subarray(qi * k, (qi + 1) * k)),
          expected.map((e) => e.r),
          `${simd} subset ${qi}`,
        );
        assert.deepEqual(
          Array.from(sub.distances.subarray(qi * k, (qi + 1) * k)),
          expected.map((e) => e.d),
        );
      }
    }
  });

  test('f16 and i8 storage keep recall@10 against float32 exact on clustered unit vectors', (t) => {
    const random = seeded(17);
    const n = 4000;
    const dim = 64;
    const centres = gaussian(random, 100 * dim);
    const draw = (count: number) => {
      const x = gaussian(random, count * dim);
      for (let i = 0; i < count; i++) {
        let ss = 0;
        for (let j = 0; j < dim; j++) {
          const v = (centres[(i % 100) * dim + j] as number) + (x[i * dim + j] as number);
          x[i * dim + j] = v;
          ss += v * v;
        }
        for (let j = 0; j < dim; j++) x[i * dim + j] = (x[i * dim + j] as number) / Math.sqrt(ss);
      }
      return x;
    };
    const x = draw(n);
    const q = draw(200);
    const k = 10;
    const truth = scanInnerProduct({ precision: 'f32', data: x, n, dim }, q, { k });
    // f16 rounded to nearest even by libtorch, as src/search/precision.ts rounds it.
    const f16 = scope(() => new Uint16Array(native.toBuffer(tensor(x).to('float16').handle)));
    // i8 as src/search/precision.ts stores it, renormalised by the row scale (1 / norm of the int8 row).
    const i8 = new Int8Array(n * dim);
    const scales = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      let max = 0;
      for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(x[r * dim + j] as number));
      const scale = Math.fround(max / 127);
      let ss = 0;
      for (let j = 0; j < dim; j++) {
        const v = Math.max(-127, Math.min(127, Math.round((x[r * dim + j] as number) / scale)));
        i8[r * dim + j] = v;
        ss += v * v;
      }
      scales[r] = 1 / Math.sqrt(ss);
    }
    const recall = (h: ScanHits) => {
      let found = 0;
      for (let i = 0; i < 200; i++) {
        const want = new Set(truth.rows.subarray(i * k, (i + 1) * k));
        for (const r of h.rows.subarray(i * k, (i + 1) * k)) if (want.has(r)) found++;
      }
      return found / (200 * k);
    };
    const f16Recall = recall(scanInnerProduct({ precision: 'f16', data: f16, n, dim }, q, { k }));
    const i8Recall = recall(scanInnerProduct({ precision: 'i8', data: i8, n, dim, rowScales: scales }, q, { k }));
    const i8q8Recall = recall(
      scanInnerProduct({ precision: 'i8', data: i8, n, dim, rowScales: scales }, q, { k, int8Queries: true }),
    );
    t.diagnostic(`recall@10 vs f32 exact: f16 ${f16Recall}, i8 ${i8Recall}, i8 with int8 queries ${i8q8Recall}`);
    assert.ok(f16Recall >= 0.99, `f16 ${f16Recall}`);
    assert.ok(i8Recall >= 0.95, `i8 ${i8Recall}`);
    assert.ok(i8q8Recall >= 0.95, `i8 int8 queries ${i8q8Recall}`);
  });

  test('NORMSOFTMAX_SIMD picks the default level; a level this CPU lacks or an unknown one is an error', () => {
    const saved = process.env.NORMSOFTMAX_SIMD;
    try {
      process.env.NORMSOFTMAX_SIMD = 'scalar';
      assert.equal(defaultSimdLevel(), 'scalar');
      process.env.NORMSOFTMAX_SIMD = 'sse9';
      assert.throws(
        () => defaultSimdLevel(),
        /NORMSOFTMAX_SIMD: the level must be one of scalar, avx2, avx512, avx512-vnni, got/,
      );
      assert.throws(() => scanInnerProduct(GRID.stored, GRID.q, { k: 1 }), /NORMSOFTMAX_SIMD/);
      delete process.env.NORMSOFTMAX_SIMD;
      assert.equal(defaultSimdLevel(), LEVELS.at(-1));
    } finally {
      if (saved === undefined) delete process.env.NORMSOFTMAX_SIMD;
      else process.env.NORMSOFTMAX_SIMD = saved;
    }
    for (const level of ['avx2', 'avx512', 'avx512-vnni'] as const) {
      if (!LEVELS.includes(level)) {
        assert.throws(() => scanInnerProduct(GRID.stored, GRID.q, { k: 1, simd: level }), /this CPU runs/);
      }
    }
  });

  test('bad arguments are clear errors, in TypeScript and again in C++, never a crash', () => {
    const { dim, q, stored } = GRID;
    const f = (s: unknown, queries: unknown, o: unknown) => () =>
      scanInnerProduct(s as StoredVectors, queries as Float32Array, o as InnerProductScanOptions);
    const cases: [() => unknown, RegExp][] = [
      [f(stored, q, { k: 0 }), /k = 0 is out of range/],
      [f(stored, q, { k: 1.5 }), /k must be an integer/],
      [f({ ...stored, n: 601 }, q, { k: 1 }), /stored.data holds 96000 bytes, 601 x 40 f32 values need 96160/],
      [f({ ...stored, precision: 'f64' }, q, { k: 1 }), /precision must be f32, f16 or i8/],
      [
        f({ ...stored, data: new Int8Array(600 * 40 * 4) }, q, { k: 1 }),
        /f32 stored.data must be a Float32Array or a Uint8Array/,
      ],
      [f({ ...stored, dim: 0 }, q, { k: 1 }), /stored.dim = 0 is out of range/],
      [
        f({ ...stored, precision: 'i8', data: new Int8Array(600 * 40) }, q, { k: 1 }),
        /i8 stored vectors need their rowScales/,
      ],
      [
        f({ ...stored, rowScales: new Float32Array(3) }, q, { k: 1 }),
        /rowScales needs one scale per row \(600\), got 3/,
      ],
      [f(stored, q.subarray(1), { k: 1 }), /not a whole number of 40-d queries/],
      [f(stored, Float64Array.from(q), { k: 1 }), /queries must be a Float32Array/],
      [
        f(stored, Float32Array.of(...q.subarray(0, dim - 1), Number.NaN), { k: 1 }),
        /query 0 has a non-finite value at 39/,
      ],
      [
        f(stored, q, { k: 1, rows: Int32Array.of(3, 2) }),
        /ascending rows in \[0, 600\) without repeats, got 2 at 1 after 3/,
      ],
      [f(stored, q, { k: 1, rows: Int32Array.of(600) }), /got 600 at 0/],
      [f(stored, q, { k: 1, rows: [1, 2] }), /rows must be an Int32Array/],
      [f(stored, q, { k: 1, rowsPerQuery: [null] }), /rowsPerQuery needs one entry per query \(37\)/],
      [f(stored, q, { k: 1, rows: Int32Array.of(1), rowsPerQuery: new Array(37).fill(null) }), /not both/],
      [f(stored, q, { k: 1, selfRows: new Int32Array(36) }), /selfRows needs one row per query \(37\), got 36/],
      [
        f(stored, q, { k: 1, selfRows: new Int32Array(37).fill(-2) }),
        /selfRows must be rows in \[0, 600\) or -1, got -2/,
      ],
      [f(stored, q, { k: 1, threads: 0 }), /threads = 0 is out of range/],
      [f(stored, new Float32Array(300 * dim), { k: 2 ** 20 }), /300 queries x k = 1048576 hits are too many/],
      [f(stored, q, { k: 1, simd: 'neon' }), /simd must be one of/],
      [f(stored, q, { k: 1, int8Queries: true }), /int8Queries needs i8 stored vectors/],
      [
        f({ precision: 'f32', data: new Float32Array(2 ** 20), n: 2 ** 20, dim: 1 }, new Float32Array(100), {
          k: 2 ** 20,
          threads: 4,
        }),
        /100 queries x k = 1048576 need too much selection memory/,
      ],
      [
        () => scanHamming({ data: new Uint8Array(10), n: 3, bytes: 3 }, new Uint8Array(3), { k: 1 }),
        /codes.data holds 10 bytes/,
      ],
      [
        () => scanHamming({ data: new Uint8Array(9), n: 3, bytes: 3 }, new Uint8Array(4), { k: 1 }),
        /not a whole number of 3-byte codes/,
      ],
    ];
    for (const [call, message] of cases) assert.throws(call, message);
    // The addon checks again (a caller that skips the TypeScript layer gets an error, not a crash).
    const rows = new Int32Array(37);
    const scores = new Float32Array(37);
    const level = 0;
    // The addon's arguments by name, each case changing only what it tests.
    const rawArgs = {
      vectors: GRID.x as never,
      n: 600,
      dim,
      stored: 0,
      rowScales: null as Float32Array | null,
      queries: q as never,
      nq: 37,
      k: 1,
      subset: null as Int32Array | null,
      selfRows: null as Int32Array | null,
      int8Queries: false,
      threads: 1,
      level,
    };
    const rawScan = (change: Partial<typeof rawArgs>) => () => {
      const a = { ...rawArgs, ...change };
      direct.scanInnerProduct(
        a.vectors,
        a.n,
        a.dim,
        a.stored,
        a.rowScales,
        a.queries,
        a.nq,
        a.k,
        a.subset,
        a.selfRows,
        a.int8Queries,
        a.threads,
        a.level,
        rows,
        scores,
      );
    };
    const raw: [() => unknown, RegExp][] = [
      [rawScan({ n: 601 }), /vectors hold/],
      [rawScan({ nq: 38 }), /queries holds/],
      [rawScan({ k: 2 }), /outRows holds/],
      [rawScan({ subset: Int32Array.of(5, 5) }), /ascending/],
      [rawScan({ subset: Int32Array.of(-1) }), /ascending/],
      [rawScan({ selfRows: new Int32Array(37).fill(600) }), /selfRows/],
      [rawScan({ stored: 2 }), /vectors hold|rowScales/],
      [rawScan({ int8Queries: true }), /int8 queries need i8/],
      [rawScan({ level: 9 }), /level = 9/],
      [rawScan({ threads: 0 }), /threads = 0/],
      [rawScan({ queries: Float64Array.from(q) as never }), /queries must be a Float32Array/],
      [rawScan({ vectors: {} as never }), /vectors must be a typed array/],
      [
        () =>
          direct.scanHamming(
            new Uint8Array(9),
            3,
            3,
            new Uint8Array(3),
            1,
            1,
            null,
            null,
            1,
            level,
            new Int32Array(1),
            new Float32Array(1) as never,
          ),
        /outDistances must be a Int32Array/,
      ],
    ];
    for (const [call, message] of raw) assert.throws(call, message);
    // A non-finite query (which the TypeScript layer refuses) is no crash in C++ either.
    const i8: StoredVectors = { precision: 'i8', data: new Int8Array(dim), n: 1, dim, rowScales: Float32Array.of(1) };
    const bad = new Float32Array(dim).fill(Number.NaN);
    bad[1] = Number.POSITIVE_INFINITY;
    for (const int8Queries of [true, false]) {
      const o = new Int32Array(1);
      direct.scanInnerProduct(
        i8.data,
        1,
        dim,
        2,
        i8.rowScales ?? null,
        bad,
        1,
        1,
        null,
        null,
        int8Queries,
        1,
        level,
        o,
        new Float32Array(1),
      );
      assert.deepEqual(Array.from(o), [0]);
    }
  });
}

nodeTest('scan.ts runs the search addon, a file of its own, not the libtorch addon', () => {
  if (!process.env.NORMSOFTMAX_SEARCH_ADDON) assert.match(searchAddonFile ?? 'none', /\/normsoftmax_search\.node$/);
  assert.notEqual(searchNative.scanInnerProduct, native.scanInnerProduct);
  assert.deepEqual(searchKernels.simdLevels(), (ADDONS[1] as Addon).kernels.simdLevels());
});

nodeTest('both addons: the same rows and score bits for every store, level and thread count', () => {
  const random = seeded(23);
  const n = 20_000; // 5 partitions of 4096 rows at most
  const dim = 24;
  const x = gaussian(random, n * dim);
  x.copyWithin(10_000 * dim, 0, 5000 * dim); // ties across partitions
  const i8 = Int8Array.from(x, (v) => Math.max(-127, Math.min(127, Math.round(v * 40))));
  const scales = Float32Array.from({ length: n }, () => 0.01 + random() * 0.02);
  const codes = Uint8Array.from(x, (v) => Math.floor((v + 4) * 32) & 0xff);
  const q = x.slice(0, 9 * dim);
  const [search, libtorch] = ADDONS.map((a) => a.kernels) as [ScanKernels, ScanKernels];
  const cases: [string, StoredVectors, boolean][] = [
    ['f32', { precision: 'f32', data: x, n, dim }, false],
    ['i8', { precision: 'i8', data: i8, n, dim, rowScales: scales }, false],
    ['i8 int8', { precision: 'i8', data: i8, n, dim, rowScales: scales }, true],
  ];
  let compared = 0;
  for (const simd of search.simdLevels()) {
    for (const threads of [1, 2, 3, 7]) {
      for (const [name, stored, int8Queries] of cases) {
        const o = { k: 7, simd, threads, int8Queries };
        const a = search.scanInnerProduct(stored, q, o);
        assertSameHits(a, libtorch.scanInnerProduct(stored, q, o), `${name} ${simd} ${threads} threads`);
        assertSameHits(a, search.scanInnerProduct(stored, q, { ...o, threads: 1 }), `${name} ${simd} vs 1 thread`);
        compared++;
      }
      const codeStore = { data: codes, n, bytes: dim };
      const h = search.scanHamming(codeStore, codes.subarray(0, 5 * dim), { k: 5, simd, threads });
      const l = libtorch.scanHamming(codeStore, codes.subarray(0, 5 * dim), { k: 5, simd, threads });
      assert.deepEqual([h.rows, h.distances], [l.rows, l.distances], `Hamming ${simd} ${threads} threads`);
    }
  }
  assert.ok(compared >= 12);
});

nodeTest(
  'threads: libtorch count where libtorch is loaded, else NORMSOFTMAX_THREADS, OMP_NUM_THREADS, cores',
  async () => {
    // This test process loaded libtorch (src/tensor/native.ts): scans follow setNumThreads().
    const saved = native.getNumThreads();
    try {
      native.setNumThreads(3);
      assert.equal(defaultScanThreads(), 3);
    } finally {
      native.setNumThreads(saved);
    }
    const cores = availableParallelism();
    assert.equal(environmentThreads({}), cores);
    assert.equal(environmentThreads({ NORMSOFTMAX_THREADS: '5', OMP_NUM_THREADS: '2' }), 5);
    assert.equal(environmentThreads({ NORMSOFTMAX_THREADS: '0' }), 1);
    assert.equal(environmentThreads({ NORMSOFTMAX_THREADS: 'many' }), 1);
    assert.equal(environmentThreads({ OMP_NUM_THREADS: '4,2' }), 4);
    assert.equal(environmentThreads({ OMP_NUM_THREADS: 'x' }), cores);
    // A worker that only scans loads no libtorch addon of its own and takes the environment's count, not
    // libtorch's (which differs).
    const wanted = native.getNumThreads() + 1;
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
     import('tsx/esm/api').then(async ({ register }) => {
       register();
       const threads = await import(${JSON.stringify(new URL('../../src/tensor/scan-threads.ts', import.meta.url).href)});
       const scan = await import(${JSON.stringify(new URL('../../src/tensor/kernels/scan.ts', import.meta.url).href)});
       const hits = scan.scanInnerProduct({ precision: 'f32', data: Float32Array.of(1, 0, 0, 1), n: 2, dim: 2 },
         Float32Array.of(0, 1), { k: 1 });
       parentPort.postMessage({ threads: threads.defaultScanThreads(), row: hits.rows[0] });
     });`,
      { eval: true, env: { ...process.env, NORMSOFTMAX_THREADS: String(wanted) } },
    );
    const [reply] = (await once(worker, 'message')) as [{ threads: number; row: number }];
    await worker.terminate();
    assert.deepEqual({ threads: reply.threads, row: reply.row }, { threads: wanted, row: 1 });
  },
);

nodeTest(
  'the search addon: NORMSOFTMAX_SEARCH_ADDON, else the build folder, else none (the libtorch addon runs)',
  () => {
    const built = searchAddonPath({});
    assert.match(built ?? 'none', /\/native\/build\/normsoftmax_search\.node$/);
    const libtorchAddon = libtorchAddonFile();
    assert.equal(searchAddonPath({ NORMSOFTMAX_SEARCH_ADDON: libtorchAddon }), libtorchAddon);
    assert.throws(
      () => searchAddonPath({ NORMSOFTMAX_SEARCH_ADDON: '/nonexistent/search.node' }),
      /^Error: NORMSOFTMAX_SEARCH_ADDON: \/nonexistent\/search\.node does not exist$/,
    );
    assert.equal(searchAddonPath({}, dirname(fileURLToPath(import.meta.url))), null, 'a folder without it');
  },
);
