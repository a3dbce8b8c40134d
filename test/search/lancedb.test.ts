// The LanceDB backend: a table of metadata, vectors and codes behind the same VisualSearchIndex as the
// usearch backend. Exact search equals brute force; with the tuned ANN settings every item finds itself
// first; filters mean what they mean for the usearch backend (null labels included); items are added and
// deleted without rebuilding the ANN index; every change is a version that can be opened again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect } from '@lancedb/lancedb';
import { knnInnerProduct } from '../../src/eval/knn.js';
import { packCodes } from '../../src/search/binary-codes.js';
import { compileWhere } from '../../src/search/filter.js';
import { LANCE_DIR, LANCE_TABLE, type LanceManifest } from '../../src/search/lancedb/layout.js';
import { type LanceSearchIndex, openLanceIndex } from '../../src/search/lancedb/open.js';
import { writeLanceIndex } from '../../src/search/lancedb/write.js';
import type { ItemMeta } from '../../src/search/types.js';
import { tensor } from '../../src/tensor/index.js';
import { UsageError } from '../../src/util/errors.js';
import { itemsOf, NO_EMBEDDER, randomUnit, write as writeUsearch } from './helpers.js';

process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false'; // opts in to Lance's coming default (no warning)
const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-lancedb-'));
const N = 3000;
const DIM = 64;
const vectors = randomUnit(N, DIM, 42);
const row = (v: Float32Array, r: number) => v.slice(r * DIM, (r + 1) * DIM);

// Labels c0..c2, with every 7th item unlabelled and paths with a backslash, for the filter tests.
function items(n: number): ItemMeta[] {
  return itemsOf(n).map((it, i) => ({
    ...it,
    label: i % 7 === 0 ? null : it.label,
    path: i % 5 === 0 ? `odd\\dir/${it.id}.png` : it.path,
  }));
}

function write(sub: string, its: ItemMeta[], v: Float32Array, exactBelow: number) {
  return writeLanceIndex(
    join(dir, sub),
    { items: its, dim: DIM, vectors: v },
    {
      precision: 'f32',
      exactBelow,
      embedder: { ...NO_EMBEDDER, dim: DIM },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
}

let annManifest: LanceManifest;
let ann: LanceSearchIndex;
let exact: LanceSearchIndex;

before(async () => {
  annManifest = await write('ann', items(N), vectors, 1000);
  ann = await openLanceIndex(join(dir, 'ann'));
  await write('exact', items(N), vectors, 50_000);
  exact = await openLanceIndex(join(dir, 'exact'));
});
after(async () => {
  await ann?.close();
  await exact?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('create: manifest, stats, items and vectors round-trip', () => {
  assert.equal(annManifest.backend, 'lancedb');
  assert.equal(annManifest.lance.index?.kind, 'ivf-hnsw-sq');
  assert.deepEqual(exact.stats().hnsw, { float: false, binary: false });
  assert.deepEqual(ann.stats().hnsw, { float: true, binary: false });
  assert.equal(ann.stats().items, N);
  assert.equal(ann.stats().backend, 'lancedb');
  assert.ok(ann.stats().bytesOnDisk > N * DIM * 4);
  assert.deepEqual(ann.item('item14'), { id: 'item14', path: 'c2/item14.png', label: null, size: null, hash: null });
  assert.deepEqual(ann.vectorOf('item123'), row(vectors, 123));
  assert.equal(ann.item('nope'), undefined);
});

test('tuned ANN: recall@10 measured at build time, and every item finds itself first', async () => {
  assert.ok((annManifest.lance.recallAt10 as number) >= 0.95, `recall ${annManifest.lance.recallAt10}`);
  assert.equal(annManifest.lance.selfHits, annManifest.lance.recallQueries);
  const results = await ann.search(
    Array.from({ length: N }, (_, r) => row(vectors, r)),
    { k: 1, mode: 'float' },
  );
  const misses = results.map((h, r) => (h[0]?.id === `item${r}` ? -1 : r)).filter((r) => r >= 0);
  assert.deepEqual(misses, [], `${misses.length} items not found first`);
});

test('exact float search equals src/eval k-NN (rows, order, scores)', async () => {
  const q = randomUnit(20, DIM, 9);
  const ref = knnInnerProduct(tensor(q, { shape: [20, DIM] }), tensor(vectors, { shape: [N, DIM] }), 10);
  for (const index of [exact, ann]) {
    const got = await index.search(
      Array.from({ length: 20 }, (_, i) => row(q, i)),
      { k: 10, mode: 'float', exact: true },
    );
    got.forEach((hits, i) => {
      assert.deepEqual(
        hits.map((h) => h.id),
        Array.from(ref.indices.subarray(i * 10, (i + 1) * 10), (r) => `item${r}`),
      );
      for (const [j, h] of hits.entries()) assert.ok(Math.abs(h.score - (ref.keys[i * 10 + j] as number)) < 1e-5);
    });
  }
});

test('binary search equals brute-force Hamming (scores = bits in common); rerank re-scores its candidates', async () => {
  const codes = packCodes(vectors, DIM);
  const q = randomUnit(10, DIM, 5);
  const qc = packCodes(q, DIM);
  const popcount = (b: number) => {
    let c = 0;
    for (let x = b; x; x &= x - 1) c++;
    return c;
  };
  const got = await exact.search(
    Array.from({ length: 10 }, (_, i) => row(q, i)),
    { k: 25, mode: 'binary' },
  );
  const rerank = await exact.search(
    Array.from({ length: 10 }, (_, i) => row(q, i)),
    { k: 5, mode: 'rerank', oversample: 5 },
  );
  got.forEach((hits, i) => {
    const common = Array.from({ length: N }, (_, r) => {
      let d = 0;
      for (let b = 0; b < DIM / 8; b++) d += popcount((codes[r * 8 + b] as number) ^ (qc[i * 8 + b] as number));
      return DIM - d;
    });
    const best = [...common].sort((a, b) => b - a).slice(0, 25);
    assert.deepEqual(
      hits.map((h) => h.score),
      best,
    );
    for (const h of hits) assert.equal(h.score, common[Number(h.id.slice(4))]);
    // Rerank: the 5 best of these 25 candidates by cosine.
    const cos = (id: string) => {
      const v = row(vectors, Number(id.slice(4)));
      return v.reduce((s, x, j) => s + x * (q[i * DIM + j] as number), 0);
    };
    const expected = hits
      .map((h) => ({ id: h.id, c: cos(h.id) }))
      .sort((a, b) => b.c - a.c)
      .slice(0, 5);
    assert.deepEqual(
      rerank[i]?.map((h) => h.id),
      expected.map((e) => e.id),
    );
  });
});

test('filters: the same matches as the usearch backend, null labels and backslashes included', async () => {
  const all = items(N);
  const q = randomUnit(3, DIM, 77);
  const queries = Array.from({ length: 3 }, (_, i) => row(q, i));
  for (const where of [
    "label = 'c1'",
    "label != 'c1'",
    "label IN ('c0', 'c2') AND id LIKE 'item1%'",
    "path LIKE 'odd\\dir/%'",
    "path LIKE 'c_/item2_.png'",
    "label = 'it''s'",
  ]) {
    const pass = compileWhere(where);
    const matching = all.filter(pass).map((it) => it.id);
    for (const [index, exactFlag] of [
      [exact, true],
      [ann, false],
    ] as const) {
      const got = await index.search(queries, { k: 15, mode: 'float', where, exact: exactFlag });
      for (const hits of got) {
        assert.equal(hits.length, Math.min(15, matching.length), `${where}: ${hits.length} hits`);
        for (const h of hits) assert.ok(pass(index.item(h.id) as ItemMeta), `${where}: ${h.id} does not match`);
      }
    }
    // Exact filtered search is the brute-force search over the matching rows.
    const ref = matching
      .map((id) => ({ id, s: row(vectors, Number(id.slice(4))).reduce((s, x, j) => s + x * (q[j] as number), 0) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 15);
    const got = await exact.search([queries[0] as Float32Array], { k: 15, mode: 'float', where, exact: true });
    assert.deepEqual(
      got[0]?.map((h) => h.id),
      ref.map((r) => r.id),
      where,
    );
  }
  await assert.rejects(exact.search(queries, { k: 5, mode: 'float', where: "size = '3'" }), UsageError);
});

test('add and delete without a rebuild; versions; an older version opens read-only', async () => {
  const sub = join(dir, 'ann');
  const v0 = await ann.version();
  const extra = randomUnit(40, DIM, 1234);
  const newItems = Array.from({ length: 40 }, (_, i) => ({
    id: `new${i}`,
    path: null,
    label: 'fresh',
    size: 10,
    hash: 'h',
  }));
  await ann.add(newItems, extra);
  const found = await ann.search(
    Array.from({ length: 40 }, (_, i) => row(extra, i)),
    { k: 1, mode: 'float' },
  );
  assert.deepEqual(
    found.map((h) => h[0]?.id),
    newItems.map((it) => it.id),
  );
  // The ANN index was not rebuilt: the new rows are not in it (Lance scans them until optimize()).
  const table = await (await connect(join(sub, LANCE_DIR))).openTable(LANCE_TABLE);
  const idx = (await table.listIndices())[0]?.name as string;
  assert.deepEqual(
    [(await table.indexStats(idx))?.numIndexedRows, (await table.indexStats(idx))?.numUnindexedRows],
    [N, 40],
  );
  await assert.rejects(ann.add([newItems[0] as ItemMeta], row(extra, 0)), /already in the index/);

  assert.equal(await ann.delete(['item5', 'new3', 'nope']), 2);
  const after = await ann.search([row(vectors, 5), row(extra, 3)], { k: 3, mode: 'float' });
  for (const hits of after) assert.ok(!hits.some((h) => h.id === 'item5' || h.id === 'new3'));
  assert.equal(ann.stats().items, N + 38);
  await table.checkoutLatest(); // this handle was opened before the delete
  assert.equal(await table.countRows(), N + 38);
  const filtered = await ann.search([row(extra, 7)], { k: 50, mode: 'float', where: "label = 'fresh'" });
  assert.equal(filtered[0]?.length, 39);
  table.close();

  const versions = await ann.versions();
  assert.ok(versions.length >= 3);
  assert.ok((await ann.version()) > v0);
  const old = await openLanceIndex(sub, { version: v0 });
  try {
    assert.equal(old.stats().items, N);
    assert.equal(old.item('new0'), undefined);
    assert.ok(old.item('item5'));
    await assert.rejects(old.delete(['item1']), UsageError);
  } finally {
    await old.close();
  }
  const reopened = await openLanceIndex(sub);
  assert.equal(reopened.stats().items, N + 38);
  await reopened.close();
});

test('a build over an existing LanceDB index writes only what changed', async () => {
  const its = items(300);
  const v = randomUnit(300, DIM, 3);
  await write('incr', its, v, 50_000);
  const changed = v.slice();
  changed.set(randomUnit(1, DIM, 99), 7 * DIM);
  const lines: string[] = [];
  await writeLanceIndex(
    join(dir, 'incr'),
    {
      items: its.filter((it) => it.id !== 'item9'),
      dim: DIM,
      vectors: new Float32Array([...changed.subarray(0, 9 * DIM), ...changed.subarray(10 * DIM)]),
    },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: { ...NO_EMBEDDER, dim: DIM },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
      onStatus: (l) => lines.push(l),
    },
  );
  assert.deepEqual(lines, ['lancedb: 1 items added, 2 removed']);
  const index = await openLanceIndex(join(dir, 'incr'));
  try {
    assert.equal(index.stats().items, 299);
    assert.deepEqual(index.vectorOf('item7'), randomUnit(1, DIM, 99));
    assert.equal(index.item('item9'), undefined);
  } finally {
    await index.close();
  }
});

test('bad input: f16 precision, a usearch index folder, an unknown version', async () => {
  await assert.rejects(
    writeLanceIndex(
      join(dir, 'f16'),
      { items: items(3), dim: DIM, vectors: randomUnit(3, DIM) },
      {
        precision: 'f16',
        exactBelow: 10,
        embedder: { ...NO_EMBEDDER, dim: DIM },
        imageRoot: null,
        source: { kind: 'embeddings', detail: {} },
      },
    ),
    /--precision f16: the lancedb backend stores f32/,
  );
  await writeUsearch(join(dir, 'usearch'), randomUnit(5, DIM), DIM);
  await assert.rejects(write('usearch', items(5), randomUnit(5, DIM), 10), /holds an index of another backend/);
  await assert.rejects(openLanceIndex(join(dir, 'usearch')), /backend is "usearch", expected "lancedb"/);
  await assert.rejects(openLanceIndex(join(dir, 'exact'), { version: 999 }), /--version 999/);
  await assert.rejects(exact.search([new Float32Array(DIM)], { k: 1, mode: 'float' }), /zero or non-finite/);
});
