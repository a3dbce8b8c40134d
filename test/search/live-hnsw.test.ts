// Compaction of a live index with HNSW graphs: the graphs are extended (usearch add/remove), not rebuilt,
// their recall@10 measured again and kept within RECALL_SLACK of the base's, every item still finds itself
// first through both graphs (approximate search, not exact); a compaction with only deletes moves the last
// rows into the holes; an exact index that grows past --exact-below gets its graphs built.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { acquireWriterLock, type WriterLock } from '../../src/io/writer-lock.js';
import { readManifest } from '../../src/search/manifest.js';
import { openIndex } from '../../src/search/open-index.js';
import type { ItemMeta, VisualSearchIndex } from '../../src/search/types.js';
import { RECALL_SLACK } from '../../src/search/usearch/compact.js';
import { randomUnit, write } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-live-hnsw-'));
const DIM = 24;
const N = 1200;
const base = randomUnit(N, DIM, 3);
const fresh = randomUnit(200, DIM, 4);
const row = (v: Float32Array, r: number) => v.slice(r * DIM, (r + 1) * DIM);
const item = (id: string): ItemMeta => ({ id, path: null, label: null, size: null, hash: null });
let idx: string;
let lock: WriterLock;
let live: VisualSearchIndex;
const vectors = new Map<string, Float32Array>();

before(async () => {
  idx = join(dir, 'idx');
  await write(idx, base, DIM, { exactBelow: 1000 });
  for (let r = 0; r < N; r++) vectors.set(`item${r}`, row(base, r));
  lock = acquireWriterLock(idx, 'test');
  live = await openIndex(idx, { writer: { lock }, log: () => {} });
});
after(async () => {
  await live?.close();
  lock?.release();
  rmSync(dir, { recursive: true, force: true });
});

async function everyItemFindsItself(index: VisualSearchIndex): Promise<void> {
  const ids = [...vectors.keys()];
  const queries = ids.map((id) => vectors.get(id) as Float32Array);
  for (const mode of ['float', 'binary'] as const) {
    const hits = await index.search(queries, { k: 1, mode });
    const misses = ids.filter((id, i) => hits[i]?.[0]?.id !== id);
    // Binary codes of random vectors can tie: a miss must then have the same score as the hit found.
    if (mode === 'binary') {
      for (const id of misses) {
        const [all] = await index.search([vectors.get(id) as Float32Array], { k: 5, mode, exact: true });
        assert.ok(
          all?.some((h) => h.id === id && h.score === all[0]?.score),
          `${id} ties for first`,
        );
      }
    } else assert.deepEqual(misses, [], `${mode}: ${misses.length} items not found first`);
  }
}

test('puts, replacements and deletes folded into extended graphs with their recall kept', async () => {
  const w = live.writer;
  assert.ok(w);
  const before = readManifest(idx).hnsw;
  for (let i = 0; i < 100; i++) {
    await w.put(item(`new${i}`), row(fresh, i));
    vectors.set(`new${i}`, row(fresh, i));
  }
  for (let r = 0; r < 30; r++) {
    await w.put(item(`item${r * 7}`), row(fresh, 100 + r));
    vectors.set(`item${r * 7}`, row(fresh, 100 + r));
  }
  for (let r = 0; r < 60; r++) {
    await w.remove(`item${r * 11 + 3}`);
    vectors.delete(`item${r * 11 + 3}`);
  }
  const report = await w.compact();
  assert.ok(report);
  assert.equal(report.items, vectors.size);
  assert.deepEqual(
    report.lines.map((l) => l.split(',')[0]),
    ['hnsw-float extended', 'hnsw-binary extended'],
  );
  const m = readManifest(idx);
  assert.equal(m.items, N + 100 - 60);
  for (const h of m.hnsw) {
    const was = before.find((b) => b.role === h.role);
    assert.ok(was && h.recallAt10 >= was.recallAt10 - RECALL_SLACK, `${h.role}: ${h.recallAt10} vs ${was?.recallAt10}`);
  }
  await everyItemFindsItself(live);

  // Only deletes: the last rows move into the holes; the reopened index is the same.
  for (let r = 0; r < 40; r++) {
    await w.remove(`new${r}`);
    vectors.delete(`new${r}`);
  }
  const second = await w.compact();
  assert.equal(second?.items, vectors.size);
  assert.equal(readManifest(idx).items, vectors.size);
  await everyItemFindsItself(live);
  const reader = await openIndex(idx, { log: () => {} });
  try {
    await everyItemFindsItself(reader);
  } finally {
    await reader.close();
  }
});

test('an exact index that grows past exactBelow gets graphs built by its compaction', async () => {
  const small = join(dir, 'small');
  await write(small, base.slice(0, 50 * DIM), DIM, { exactBelow: 60 });
  const l = acquireWriterLock(small, 'test');
  const index = await openIndex(small, { writer: { lock: l }, log: () => {} });
  try {
    assert.deepEqual(index.stats().hnsw, { float: false, binary: false });
    for (let i = 0; i < 20; i++) await index.writer?.put(item(`n${i}`), row(fresh, i));
    const r = await index.writer?.compact();
    assert.deepEqual(
      r?.lines.map((x) => x.split(',')[0]),
      ['hnsw-float built', 'hnsw-binary built'],
    );
    assert.deepEqual(index.stats().hnsw, { float: true, binary: true });
    const [hits] = await index.search([row(fresh, 7)], { k: 1, mode: 'float' });
    assert.equal(hits?.[0]?.id, 'n7');
  } finally {
    await index.close();
    l.release();
  }
});
