// Search correctness: every item finds itself first through both HNSW graphs; exact float search equals
// src/eval's k-NN (rows and order; the scan kernel's scores); binary equals a brute-force Hamming search computed here; rerank re-scores the binary
// candidates; filters.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { knnInnerProduct } from '../../src/eval/knn.js';
import { openIndex } from '../../src/search/open-index.js';
import type { VisualSearchIndex } from '../../src/search/types.js';
import { tensor } from '../../src/tensor/index.js';
import { scanInnerProduct } from '../../src/tensor/kernels/scan.js';
import { randomUnit, write } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-index-search-'));
const N = 3000;
const DIM = 64;
const vectors = randomUnit(N, DIM, 42);
let hnsw: VisualSearchIndex;
let exact: VisualSearchIndex;
const hnswRecall: number[] = [];

before(async () => {
  const m = await write(join(dir, 'hnsw'), vectors, DIM, { exactBelow: 1000 });
  for (const h of m.hnsw) hnswRecall.push(h.recallAt10);
  hnsw = await openIndex(join(dir, 'hnsw'));
  await write(join(dir, 'exact'), vectors.slice(0, 500 * DIM), DIM);
  exact = await openIndex(join(dir, 'exact'));
});
after(async () => {
  await hnsw?.close();
  await exact?.close();
  rmSync(dir, { recursive: true, force: true });
});

const row = (v: Float32Array, r: number, dim = DIM) => v.slice(r * dim, (r + 1) * dim);

test('above --exact-below both HNSW graphs exist, with recall@10 measured at build time', () => {
  assert.deepEqual(hnsw.stats().hnsw, { float: true, binary: true });
  assert.deepEqual(exact.stats().hnsw, { float: false, binary: false });
  assert.equal(hnswRecall.length, 2);
  for (const r of hnswRecall) assert.ok(r >= 0.9 && r <= 1, `recall ${r}`);
});

test('every item finds itself first by its own vector (float HNSW and binary HNSW)', async () => {
  const queries = Array.from({ length: N }, (_, r) => row(vectors, r));
  for (const mode of ['float', 'binary'] as const) {
    const results = await hnsw.search(queries, { k: 1, mode });
    const misses = results.map((h, r) => (h[0]?.id === `item${r}` ? -1 : r)).filter((r) => r >= 0);
    assert.deepEqual(misses, [], `${mode}: ${misses.length} items not found first`);
  }
});

test("exact float search equals src/eval k-NN (same rows, same order) with the scan kernel's scores", async () => {
  const gallery = vectors.slice(0, 500 * DIM);
  const q = randomUnit(20, DIM, 9);
  const ref = knnInnerProduct(tensor(q, { shape: [20, DIM] }), tensor(gallery, { shape: [500, DIM] }), 10);
  const got = await exact.search(
    Array.from({ length: 20 }, (_, i) => row(q, i)),
    { k: 10, mode: 'float' },
  );
  got.forEach((hits, i) => {
    assert.deepEqual(
      hits.map((h) => h.id),
      Array.from(ref.indices.subarray(i * 10, (i + 1) * 10), (r) => `item${r}`),
    );
    // The scores are the scan kernel's (an fma chain in float32, the same bits at every SIMD level: its
    // portable reference here), within rounding of libtorch's matmul.
    const scalar = scanInnerProduct({ precision: 'f32', data: gallery, n: 500, dim: DIM }, row(q, i), {
      k: 10,
      simd: 'scalar',
    });
    assert.deepEqual(
      hits.map((h) => h.score),
      Array.from(scalar.scores),
    );
    for (const [j, h] of hits.entries()) assert.ok(Math.abs(h.score - (ref.keys[i * 10 + j] as number)) < 1e-6);
  });
  // --exact on the HNSW index is the same exact search.
  const forced = await hnsw.search([row(q, 0)], { k: 10, mode: 'float', exact: true });
  const all = knnInnerProduct(tensor(row(q, 0), { shape: [1, DIM] }), tensor(vectors, { shape: [N, DIM] }), 10);
  assert.deepEqual(
    forced[0]?.map((h) => h.id),
    Array.from(all.indices, (r) => `item${r}`),
  );
});

function bruteHamming(q: Float32Array, gallery: Float32Array, n: number, k: number) {
  const d = Array.from({ length: n }, (_, r) => {
    let dist = 0;
    for (let j = 0; j < DIM; j++) if ((q[j] as number) > 0 !== (gallery[r * DIM + j] as number) > 0) dist++;
    return { r, dist };
  });
  d.sort((a, b) => a.dist - b.dist || a.r - b.r);
  return d.slice(0, k).map(({ r, dist }) => ({ id: `item${r}`, score: DIM - dist }));
}

test('exact binary search equals brute-force Hamming (ties by row), score = bits in common', async () => {
  const gallery = vectors.slice(0, 500 * DIM);
  const q = randomUnit(10, DIM, 11);
  const got = await exact.search(
    Array.from({ length: 10 }, (_, i) => row(q, i)),
    { k: 15, mode: 'binary' },
  );
  got.forEach((hits, i) => {
    assert.deepEqual(
      hits.map((h) => ({ id: h.id, score: h.score })),
      bruteHamming(row(q, i), gallery, 500, 15),
    );
  });
});

test('rerank: the binary candidates (oversample x k) re-scored by cosine, best k', async () => {
  const gallery = vectors.slice(0, 500 * DIM);
  const q = row(randomUnit(1, DIM, 13), 0);
  const [hits] = await exact.search([q], { k: 5, mode: 'rerank', oversample: 3 });
  const candidates = bruteHamming(q, gallery, 500, 15).map((c) => Number(c.id.slice(4)));
  const rescored = candidates
    .map((r) => ({ r, s: row(gallery, r).reduce((s, x, j) => s + x * (q[j] as number), 0) }))
    .sort((a, b) => b.s - a.s || a.r - b.r)
    .slice(0, 5);
  assert.deepEqual(
    hits?.map((h) => h.id),
    rescored.map((c) => `item${c.r}`),
  );
  for (const [i, h] of (hits ?? []).entries()) assert.ok(Math.abs(h.score - (rescored[i]?.s as number)) < 1e-5);
  // With every item as a candidate, rerank is exact float search.
  const [full] = await exact.search([q], { k: 5, mode: 'rerank', oversample: 100 });
  const [float] = await exact.search([q], { k: 5, mode: 'float' });
  assert.deepEqual(
    full?.map((h) => h.id),
    float?.map((h) => h.id),
  );
});

test('filters: =, !=, IN, LIKE and AND select rows before the search; a bad filter is a usage error', async () => {
  const q = row(vectors, 7);
  const ids = async (where: string, k = 500) =>
    ((await exact.search([q], { k, mode: 'float', where }))[0] ?? []).map((h) => h.id);
  const labelOf = (id: string) => `c${Number(id.slice(4)) % 3}`;
  const eq = await ids("label = 'c1'");
  assert.equal(eq.length, 167);
  assert.ok(eq.every((id) => labelOf(id) === 'c1'));
  assert.equal(eq[0], 'item7');
  assert.ok((await ids("label != 'c1'")).every((id) => labelOf(id) !== 'c1'));
  assert.equal((await ids("label IN ('c0', 'c2')")).length, 333);
  const like = await ids("path LIKE 'c2/item1_.png' AND label = 'c2'");
  assert.deepEqual(like.sort(), ['item11', 'item14', 'item17']);
  // Filters go through exact search on the HNSW index too.
  const [h] = await hnsw.search([q], { k: 3, mode: 'binary', where: "id IN ('item1', 'item2')" });
  assert.deepEqual(h?.map((x) => x.id).sort(), ['item1', 'item2']);
  for (const bad of ['label = c1', "colour = 'x'", "label = 'x' OR label = 'y'", "label IN ('a'", 'label LIKE']) {
    await assert.rejects(exact.search([q], { k: 1, mode: 'float', where: bad }), { name: 'UsageError' }, bad);
  }
});

test('bad requests: k, mode, oversample and query dimension', async () => {
  const q = row(vectors, 0);
  await assert.rejects(exact.search([q], { k: 0, mode: 'float' }), { name: 'UsageError' });
  await assert.rejects(exact.search([q], { k: 1, mode: 'nope' as 'float' }), { name: 'UsageError' });
  await assert.rejects(exact.search([q], { k: 1, mode: 'rerank', oversample: 0 }), { name: 'UsageError' });
  await assert.rejects(exact.search([q.slice(1)], { k: 1, mode: 'float' }), /has 63 values, the index's vectors 64/);
  await assert.rejects(exact.search([new Float32Array(DIM)], { k: 1, mode: 'float' }), /zero or non-finite/);
  // k above the item count returns every item.
  assert.equal((await exact.search([q], { k: 9999, mode: 'binary' }))[0]?.length, 500);
});
