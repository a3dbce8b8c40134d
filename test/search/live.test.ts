// The live usearch index in process: puts, replaces and deletes by vector, read-your-writes (search, item,
// vectorOf, counts), fields tested by `where`, the log read back by a read-only opener, compaction (the
// generation, the files, the log segments, the same answers before and after), a restarted search worker
// that gets the delta again, and HNSW graphs extended by a compaction with their recall measured.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { acquireWriterLock, type WriterLock } from '../../src/io/writer-lock.js';
import { WAL_DIR } from '../../src/search/live/wal.js';
import { readManifest } from '../../src/search/manifest.js';
import { openIndex } from '../../src/search/open-index.js';
import type { SearchHit, VisualSearchIndex } from '../../src/search/types.js';
import { UsageError } from '../../src/util/errors.js';
import { exactIds, idsOf, liveItem, randomUnit, write } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-live-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const DIM = 16;
const N = 40;
const base = randomUnit(N, DIM, 7);
const fresh = randomUnit(30, DIM, 8);
const row = (v: Float32Array, r: number) => v.slice(r * DIM, (r + 1) * DIM);

let idx: string;
let lock: WriterLock;
let live: VisualSearchIndex;
const truth = new Map<string, Float32Array>();

before(async () => {
  idx = join(dir, 'idx');
  await write(idx, base, DIM);
  for (let r = 0; r < N; r++) truth.set(`item${r}`, row(base, r));
  lock = acquireWriterLock(idx, 'test');
  live = await openIndex(idx, { writer: { lock, compactAbove: 1000 }, log: () => {} });
});
after(async () => {
  await live?.close();
  lock?.release();
});

test('puts, replaces and deletes are seen by the next search, item and count (read-your-writes)', async () => {
  const w = live.writer;
  assert.ok(w);
  assert.equal(readManifest(idx).version, 1, 'no write yet: still version 1');
  const created = await w.put(liveItem('new0', { color: 'red', price: 12 }), row(fresh, 0));
  assert.equal(created.created, true);
  assert.equal(readManifest(idx).version, 2, 'the first write makes the manifest version 2');
  truth.set('new0', row(fresh, 0));
  const [hits] = await live.search([row(fresh, 0)], { k: 3, mode: 'float' });
  assert.equal(hits?.[0]?.id, 'new0');
  assert.ok(Math.abs((hits?.[0]?.score as number) - 1) < 1e-5);
  assert.deepEqual(hits?.[0]?.meta, { color: 'red', price: 12 });
  assert.equal(live.stats().items, N + 1);
  assert.deepEqual(live.item('new0')?.meta, { color: 'red', price: 12 });

  // Replace a base item: 200 (created false), its old vector no longer finds it.
  const replaced = await w.put(liveItem('item3'), row(fresh, 1));
  assert.equal(replaced.created, false);
  truth.set('item3', row(fresh, 1));
  const [old] = await live.search([row(base, 3)], { k: N + 5, mode: 'float', exact: true });
  assert.equal(old?.filter((h) => h.id === 'item3').length, 1, 'the replaced item is there once');
  assert.ok((old?.find((h) => h.id === 'item3')?.score as number) < 0.99);
  assert.equal(live.item('item3')?.label, 'new');
  assert.equal(live.stats().items, N + 1);

  // Delete a base item and a delta item; a missing one is false and writes nothing.
  assert.equal(await w.remove('item5'), true);
  assert.equal(await w.remove('new0'), true);
  assert.equal(await w.remove('new0'), false);
  assert.equal(await w.remove('nothing'), false);
  truth.delete('item5');
  truth.delete('new0');
  assert.equal(live.item('item5'), undefined);
  assert.equal(live.vectorOf('new0'), undefined);
  assert.equal(live.stats().items, N - 1);

  // Concurrent writes of one id: applied in order, the last wins; statuses by the order they were made.
  const results = await Promise.all([
    w.put(liveItem('dup'), row(fresh, 2)),
    w.put(liveItem('dup'), row(fresh, 3)),
    w.remove('dup'),
    w.put(liveItem('dup'), row(fresh, 4)),
  ]);
  assert.deepEqual(results, [
    { created: true, item: liveItem('dup') },
    { created: false, item: liveItem('dup') },
    true,
    { created: true, item: liveItem('dup') },
  ]);
  truth.set('dup', row(fresh, 4));
  for (let i = 5; i < 15; i++) {
    await w.put(liveItem(`new${i}`, { color: i % 2 ? 'red' : 'blue', price: i }), row(fresh, i));
    truth.set(`new${i}`, row(fresh, i));
  }
  for (let q = 0; q < 10; q++) {
    const query = row(randomUnit(10, DIM, 99), q);
    const [got] = await live.search([query], { k: 8, mode: 'float' });
    assert.deepEqual(idsOf(got), exactIds(truth, query, 8), `query ${q}`);
  }
});

test('where tests meta.FIELD: typed equality, comparisons, IN, LIKE, != with missing fields', async () => {
  const q = row(fresh, 20);
  const run = async (where: string) => idsOf((await live.search([q], { k: 100, mode: 'float', where }))[0]).sort();
  assert.deepEqual(await run("meta.color = 'red'"), ['new11', 'new13', 'new5', 'new7', 'new9']);
  assert.deepEqual(await run('meta.price < 8'), ['new5', 'new6', 'new7']);
  assert.deepEqual(await run("meta.price >= 13 AND meta.color = 'red'"), ['new13']);
  assert.deepEqual(await run('meta.price IN (6, 14)'), ['new14', 'new6']);
  assert.deepEqual(await run("meta.color LIKE 'bl%' AND meta.price > 11"), ['new12', 'new14']);
  assert.deepEqual(await run("meta.price = '6'"), [], 'a string is not the number 6');
  const notRed = await run("meta.color != 'red'");
  assert.equal(notRed.length, truth.size - 5, 'items without fields match !=');
  await assert.rejects(live.search([q], { k: 1, mode: 'float', where: "label < 'x'" }), UsageError);
});

test('binary and rerank modes see the delta; a read-only opener replays the log', async () => {
  const q = row(fresh, 9);
  for (const mode of ['binary', 'rerank'] as const) {
    const [hits] = await live.search([q], { k: 1, mode });
    assert.equal(hits?.[0]?.id, 'new9', mode);
  }
  const reader = await openIndex(idx, { log: () => {} });
  try {
    assert.equal(reader.stats().items, truth.size);
    assert.equal(reader.item('item5'), undefined);
    assert.deepEqual(reader.vectorOf('dup'), live.vectorOf('dup'));
    assert.equal(reader.writer, undefined);
    for (let qi = 0; qi < 5; qi++) {
      const query = row(randomUnit(5, DIM, 77), qi);
      const [a] = await reader.search([query], { k: 10, mode: 'float' });
      const [b] = await live.search([query], { k: 10, mode: 'float' });
      assert.deepEqual(a, b);
    }
  } finally {
    await reader.close();
  }
});

test('a restarted search worker gets the delta again', async () => {
  const idx2 = join(dir, 'restart');
  await write(idx2, base.slice(0, 10 * DIM), DIM);
  const lock2 = acquireWriterLock(idx2, 'test');
  process.env.NORMSOFTMAX_FAULT = 'search-worker:search@2';
  const lines: string[] = [];
  const index = await openIndex(idx2, { writer: { lock: lock2 }, log: (l) => lines.push(l) });
  delete process.env.NORMSOFTMAX_FAULT;
  try {
    await index.writer?.put(liveItem('x'), row(fresh, 0));
    await index.writer?.remove('item1');
    assert.equal(idsOf((await index.search([row(fresh, 0)], { k: 1, mode: 'float' }))[0])[0], 'x');
    await assert.rejects(index.search([row(fresh, 0)], { k: 1, mode: 'float' }), /search worker exited/);
    let hits: SearchHit[] | undefined;
    for (let i = 0; i < 100 && hits === undefined; i++) {
      hits = (await index.search([row(fresh, 0)], { k: 10, mode: 'float' }).catch(() => [undefined]))[0];
      if (hits === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(hits?.[0]?.id, 'x', 'the delta survived the restart');
    assert.ok(!idsOf(hits).includes('item1'), 'and so did the tombstone');
    assert.ok(
      lines.some((l) => /running again/.test(l)),
      lines.join('\n'),
    );
  } finally {
    await index.close();
    lock2.release();
  }
});

test('compaction: a new generation with the same answers, the log folded, old files and segments gone', async () => {
  const queries = Array.from({ length: 8 }, (_, i) => row(randomUnit(8, DIM, 5), i));
  const before = await live.search(queries, { k: 10, mode: 'float' });
  const gen = live.stats().generation;
  const report = await live.writer?.compact();
  assert.ok(report);
  assert.equal(report.generation, gen + 1);
  assert.equal(report.items, truth.size);
  const m = readManifest(idx);
  assert.equal(m.generation, gen + 1);
  assert.equal(m.items, truth.size);
  assert.equal(m.wal?.appliedSeq, live.live?.().lastSeq);
  assert.deepEqual(live.live?.().deltaItems, 0);
  assert.deepEqual(
    readdirSync(idx)
      .filter((f) => /^g\d+-/.test(f))
      .sort(),
    m.files.map((f) => f.name).sort(),
    'only the new generation is left',
  );
  assert.equal(readdirSync(join(idx, WAL_DIR)).length, 1, 'one (new, empty) segment left');
  const afterHits = await live.search(queries, { k: 10, mode: 'float' });
  assert.deepEqual(afterHits.map(idsOf), before.map(idsOf));
  assert.deepEqual(live.item('new7')?.meta, { color: 'red', price: 7 });
  assert.deepEqual(
    idsOf((await live.search([row(fresh, 0)], { k: 100, mode: 'float', where: "meta.color = 'red'" }))[0]).length,
    5,
  );

  // Writes after a compaction, and a reader of the new generation and the new segment.
  await live.writer?.put(liveItem('late'), row(fresh, 25));
  truth.set('late', row(fresh, 25));
  const reader = await openIndex(idx, { log: () => {} });
  try {
    assert.equal(reader.stats().items, truth.size);
    assert.equal(idsOf((await reader.search([row(fresh, 25)], { k: 1, mode: 'float' }))[0])[0], 'late');
  } finally {
    await reader.close();
  }
  assert.ok(existsSync(join(idx, WAL_DIR)));
});

test('an index opened read-only refuses writes', async () => {
  const reader = await openIndex(idx, { log: () => {} });
  try {
    assert.equal(reader.writer, undefined);
    assert.equal(reader.live?.().writable, false);
  } finally {
    await reader.close();
  }
});
