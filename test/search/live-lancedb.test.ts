// The live index on the LanceDB backend: the same contract as usearch's (puts, replaces, deletes seen by the
// next search; a reader replays the log), compaction by LanceDB's own mergeInsert and delete with the
// manifest pinning the new table version (and the meta columns added to a table built without them), the
// SQL of meta filters meaning what filter.ts means (generated fields and filters, Lance against the
// reference predicate), and an ANN table optimized by the compaction with its recall measured.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { acquireWriterLock, type WriterLock } from '../../src/io/writer-lock.js';
import { compileWhere } from '../../src/search/filter.js';
import { readLanceManifest } from '../../src/search/lancedb/layout.js';
import { writeLanceIndex } from '../../src/search/lancedb/write.js';
import { openIndex } from '../../src/search/open-index.js';
import type { ItemFields, ItemMeta, VisualSearchIndex } from '../../src/search/types.js';
import { exactIds, idsOf, itemsOf, liveItem, NO_EMBEDDER, randomUnit } from './helpers.js';

process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false';
const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-live-lance-'));
const DIM = 16;
const N = 30;
const base = randomUnit(N, DIM, 11);
const fresh = randomUnit(80, DIM, 12);
const row = (v: Float32Array, r: number) => v.slice(r * DIM, (r + 1) * DIM);

function writeLance(out: string, n: number, v: Float32Array, exactBelow: number) {
  return writeLanceIndex(
    out,
    { items: itemsOf(n), dim: DIM, vectors: v },
    {
      precision: 'f32',
      exactBelow,
      embedder: { ...NO_EMBEDDER, dim: DIM },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
}

let idx: string;
let lock: WriterLock;
let live: VisualSearchIndex;
const truth = new Map<string, Float32Array>();
const metas = new Map<string, ItemMeta>();

before(async () => {
  idx = join(dir, 'idx');
  await writeLance(idx, N, base, 50_000);
  itemsOf(N).forEach((it, r) => {
    truth.set(it.id, row(base, r));
    metas.set(it.id, it);
  });
  lock = acquireWriterLock(idx, 'test');
  live = await openIndex(idx, { writer: { lock }, log: () => {} });
});
after(async () => {
  await live?.close();
  lock?.release();
  rmSync(dir, { recursive: true, force: true });
});

async function agrees(index: VisualSearchIndex, what: string): Promise<void> {
  for (let q = 0; q < 6; q++) {
    const query = row(randomUnit(6, DIM, 31), q);
    const [got] = await index.search([query], { k: 7, mode: 'float' });
    assert.deepEqual(idsOf(got), exactIds(truth, query, 7), `${what}: query ${q}`);
  }
  assert.equal(index.stats().items, truth.size, what);
}

test('puts, replaces and deletes before and after a compaction by mergeInsert and delete', async () => {
  const w = live.writer;
  assert.ok(w);
  const put = async (id: string, r: number, meta?: ItemFields) => {
    const res = await w.put(liveItem(id, meta), row(fresh, r));
    truth.set(id, row(fresh, r));
    metas.set(id, liveItem(id, meta));
    return res;
  };
  assert.equal((await put('a', 0, { color: 'red' })).created, true);
  assert.equal((await put('item4', 1)).created, false);
  assert.equal(await w.remove('item9'), true);
  truth.delete('item9');
  metas.delete('item9');
  assert.equal(idsOf((await live.search([row(fresh, 0)], { k: 1, mode: 'float' }))[0])[0], 'a');
  assert.equal(live.item('item4')?.label, 'new');
  await agrees(live, 'delta over the table');

  const v0 = readLanceManifest(idx).lance.tableVersion;
  const report = await w.compact();
  assert.equal(report?.items, truth.size);
  const m = readLanceManifest(idx);
  assert.ok(m.lance.tableVersion > v0, `the manifest pins the new version (${m.lance.tableVersion} > ${v0})`);
  assert.equal(m.items, truth.size);
  assert.equal(m.version, 2);
  assert.equal(live.live?.().deltaItems, 0);
  await agrees(live, 'after compaction');
  assert.deepEqual(live.item('a')?.meta, { color: 'red' });

  await put('b', 2);
  assert.equal(await w.remove('a'), true);
  truth.delete('a');
  metas.delete('a');
  await agrees(live, 'writes after compaction');
  const reader = await openIndex(idx, { log: () => {} });
  try {
    await agrees(reader, 'a reader: the table at the pinned version and the log');
  } finally {
    await reader.close();
  }
});

test('meta filters: LanceDB SQL over the table means what filter.ts means over the items', async () => {
  const w = live.writer;
  assert.ok(w);
  const value = fc.oneof(
    fc.constantFrom('red', 'blue', "o'q", 'é"\\', '10', '', '😀x'),
    fc.constantFrom(-1, 0, 2.5, 10, 1e21),
    fc.boolean(),
  );
  const fields = fc.dictionary(fc.constantFrom('c', 'p', 'b'), value, { maxKeys: 3 });
  const all = fc.sample(fields, { numRuns: 40, seed: 18 });
  for (const [i, meta] of all.entries()) {
    await w.put(liveItem(`m${i}`, meta), row(fresh, 10 + i));
    truth.set(`m${i}`, row(fresh, 10 + i));
    metas.set(`m${i}`, liveItem(`m${i}`, meta));
  }
  await w.compact();
  const lit = (v: string | number | boolean) => (typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v));
  const test1 = fc.oneof(
    fc
      .tuple(fc.constantFrom('c', 'p', 'b'), fc.constantFrom('=', '!='), value)
      .map(([k, op, v]) => `meta.${k} ${op} ${lit(v)}`),
    fc
      .tuple(fc.constantFrom('c', 'p'), fc.constantFrom('<', '<=', '>', '>='), fc.constantFrom(-1, 0, 2.5, 10))
      .map(([k, op, v]) => `meta.${k} ${op} ${v}`),
    fc
      .tuple(fc.constantFrom('c', 'p'), fc.array(value, { minLength: 1, maxLength: 3 }))
      .map(([k, vs]) => `meta.${k} IN (${vs.map(lit).join(', ')})`),
    fc
      .tuple(fc.constantFrom('c', 'p'), fc.constantFrom('r%', '%\\%', '_', '%', '1%'))
      .map(([k, p]) => `meta.${k} LIKE '${p}'`),
  );
  const wheres = fc.sample(
    fc.array(test1, { minLength: 1, maxLength: 2 }).map((t) => t.join(' AND ')),
    {
      numRuns: 60,
      seed: 7,
    },
  );
  const q = row(fresh, 70);
  for (const where of wheres) {
    const want = [...metas.values()]
      .filter(compileWhere(where))
      .map((it) => it.id)
      .sort();
    const [got] = await live.search([q], { k: 200, mode: 'float', exact: true, where });
    assert.deepEqual(idsOf(got).sort(), want, where);
  }
});

test('an ANN table: the compaction optimizes it and measures its recall', async () => {
  const annDir = join(dir, 'ann');
  const n = 400;
  await writeLance(annDir, n, randomUnit(n, DIM, 5), 200);
  const l = acquireWriterLock(annDir, 'test');
  const index = await openIndex(annDir, { writer: { lock: l }, log: () => {} });
  try {
    assert.deepEqual(index.stats().hnsw, { float: true, binary: false });
    for (let i = 0; i < 30; i++) await index.writer?.put(liveItem(`n${i}`), row(fresh, i));
    for (let i = 0; i < 10; i++) await index.writer?.remove(`item${i}`);
    const r = await index.writer?.compact();
    assert.match(r?.lines.join('\n') ?? '', /lancedb ivf-hnsw-sq optimized, recall@10 (0\.9\d*|1\.0+)/);
    const m = readLanceManifest(annDir);
    assert.equal(m.items, n + 20);
    for (let i = 0; i < 30; i++) {
      const [hits] = await index.search([row(fresh, i)], { k: 1, mode: 'float' });
      assert.equal(hits?.[0]?.id, `n${i}`);
    }
  } finally {
    await index.close();
    l.release();
  }
});
