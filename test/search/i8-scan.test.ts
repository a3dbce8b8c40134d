// i8 indexes are searched as stored (src/search/usearch/exact-search.ts int8Rows, engine.ts): the unit rows
// the index opens with quantise back to exactly the stored int8 values, exact search scores them with int8
// queries as the scan kernel defines it, every item finds itself first, and the results stay close to the
// float32 index's.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openIndex } from '../../src/search/open-index.js';
import { dequantize } from '../../src/search/precision.js';
import type { VisualSearchIndex } from '../../src/search/types.js';
import { int8Rows } from '../../src/search/usearch/exact-search.js';
import { readIndexArrays } from '../../src/search/usearch/read-content.js';
import { scanInnerProduct } from '../../src/tensor/kernels/scan.js';
import { randomUnit, write } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-i8-scan-'));
const N = 2000;
const DIM = 48;
const vectors = randomUnit(N, DIM, 11);
let i8: VisualSearchIndex;
let f32: VisualSearchIndex;

before(async () => {
  await write(join(dir, 'i8'), vectors, DIM, { precision: 'i8' });
  await write(join(dir, 'f32'), vectors, DIM, { precision: 'f32' });
  i8 = await openIndex(join(dir, 'i8'));
  f32 = await openIndex(join(dir, 'f32'));
});
after(async () => {
  await i8?.close();
  await f32?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the renormalised rows quantise back to the stored int8 values exactly', () => {
  const a = readIndexArrays(join(dir, 'i8'));
  const unit = dequantize(a.vectorBytes, a.scales, N, DIM, 'i8', { renormalise: true });
  const rows = int8Rows(unit, DIM);
  assert.deepEqual(new Uint8Array(rows.data.buffer), a.vectorBytes);
  assert.equal(rows.n, N);
  // Each row scale is the quantisation scale of a unit row: scale * |q| = 1 within float rounding.
  const q = rows.data as Int8Array;
  for (let r = 0; r < N; r += 97) {
    let ss = 0;
    for (let j = r * DIM; j < (r + 1) * DIM; j++) ss += (q[j] as number) ** 2;
    assert.ok(Math.abs((rows.rowScales?.[r] as number) * Math.sqrt(ss) - 1) < 1e-5);
  }
});

test('exact search on i8 scores with int8 queries over the stored rows, as the scan kernel defines it', async () => {
  const a = readIndexArrays(join(dir, 'i8'));
  const unit = dequantize(a.vectorBytes, a.scales, N, DIM, 'i8', { renormalise: true });
  const queries = randomUnit(8, DIM, 5);
  const reference = scanInnerProduct(int8Rows(unit, DIM), queries, { k: 10, int8Queries: true, simd: 'scalar' });
  const got = await i8.search(
    Array.from({ length: 8 }, (_, i) => queries.slice(i * DIM, (i + 1) * DIM)),
    { k: 10, mode: 'float', exact: true },
  );
  got.forEach((hits, i) => {
    assert.deepEqual(
      hits.map((h) => h.id),
      Array.from(reference.rows.subarray(i * 10, (i + 1) * 10), (r) => `item${r}`),
    );
    assert.deepEqual(
      hits.map((h) => h.score),
      Array.from(reference.scores.subarray(i * 10, (i + 1) * 10)),
    );
  });
});

test('every item of an i8 index finds itself first; results stay close to the float32 index', async () => {
  const ids = Array.from({ length: 200 }, (_, i) => `item${i * 10}`);
  const asQueries = ids.map((id) => i8.vectorOf(id) as Float32Array);
  const mine = await i8.search(asQueries, { k: 10, mode: 'float', exact: true });
  for (const [i, hits] of mine.entries()) assert.equal(hits[0]?.id, ids[i]);
  const theirs = await f32.search(
    ids.map((id) => f32.vectorOf(id) as Float32Array),
    { k: 10, mode: 'float', exact: true },
  );
  let same = 0;
  mine.forEach((hits, i) => {
    const truth = new Set(theirs[i]?.map((h) => h.id));
    same += hits.filter((h) => truth.has(h.id)).length;
  });
  assert.ok(same / (ids.length * 10) >= 0.95, `recall@10 against float32 ${same / (ids.length * 10)}`);
});
