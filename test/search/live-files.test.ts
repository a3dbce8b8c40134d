// Stored images of a live index (IDX/files/, content-addressed) that no item names any more are removed by
// the compaction that folds their last write, both backends: a file two items share stays while one of them
// is left, a replaced item's old image goes, a file held by a write in progress (stored, not yet put) stays,
// a temporary file of a store that never finished goes; `index compact` with nothing to fold still sweeps.
// And crash-safe: SIGKILLed before the manifest, after it, or halfway through the removals, the index opens
// with every live item's file there and only unnamed files (orphans) left over, which the next compaction removes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { acquireWriterLock } from '../../src/io/writer-lock.js';
import { storedImagePath } from '../../src/search/live/stored-files.js';
import { openIndex } from '../../src/search/open-index.js';
import type { IndexBackend, IndexWriter, VisualSearchIndex } from '../../src/search/types.js';
import { randomUnit, writeBackend } from './helpers.js';

process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false';
const REPO = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-live-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const DIM = 4;
const N = 6;
const vectors = randomUnit(40, DIM, 7);
const vec = (i: number) => vectors.slice(i * DIM, (i + 1) * DIM);
/** Image bytes (the store does not decode them): one content per name. */
const image = (name: string) => Buffer.from(`not really a png: ${name}`);
const pathOf = (name: string) => storedImagePath(image(name), 'png').path;

async function buildIndex(backend: IndexBackend, idx: string): Promise<void> {
  const base = randomUnit(N, DIM, 8);
  await writeBackend(backend, idx, base, DIM);
}

/** The stored files under IDX/files/ (relative paths), sorted. */
function storedFiles(idx: string): string[] {
  const root = join(idx, 'files');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .flatMap((shard) => readdirSync(join(root, shard)).map((name) => `files/${shard}/${name}`))
    .sort();
}

async function putImage(w: IndexWriter, id: string, name: string, v: number): Promise<void> {
  const held = await w.storeImage(image(name), 'png');
  try {
    await w.put({ id, path: held.path, label: name, size: held.size, hash: held.hash, stored: true }, vec(v));
  } finally {
    held.release();
  }
}

async function withWriter<T>(idx: string, fn: (index: VisualSearchIndex, w: IndexWriter) => Promise<T>): Promise<T> {
  const lock = acquireWriterLock(idx, 'test');
  const index = await openIndex(idx, { writer: { lock, compactAbove: 100_000 }, log: () => {} });
  try {
    return await fn(index, index.writer as IndexWriter);
  } finally {
    await index.close();
    lock.release();
  }
}

const sorted = (names: string[]) => names.map(pathOf).sort();

for (const backend of ['usearch', 'lancedb'] as const) {
  test(`${backend}: a compaction removes the stored images no item names, and only those`, async () => {
    const idx = join(dir, `${backend}-sweep`);
    await buildIndex(backend, idx);
    await withWriter(idx, async (index, w) => {
      // a and b share X.
      await putImage(w, 'a', 'X', 0);
      await putImage(w, 'b', 'X', 1);
      await putImage(w, 'c', 'Y', 2);
      await putImage(w, 'd', 'Z', 3);
      await putImage(w, 'e', 'V', 4);
      const first = await w.compact();
      assert.ok(first);
      assert.ok(!first.lines.some((l) => l.includes('removed')), first.lines.join('; '));
      assert.deepEqual(storedFiles(idx), sorted(['X', 'Y', 'Z', 'V']));

      // a deleted (b still names X), c replaced by another image (Y unnamed), d deleted (Z unnamed).
      assert.equal(await w.remove('a'), true);
      await putImage(w, 'c', 'W', 5);
      assert.equal(await w.remove('d'), true);
      // A temporary file of a store that never finished (a crash between its write and its rename).
      const stale = `${pathOf('T')}.tmp-1-2-3`;
      mkdirSync(join(idx, stale, '..'), { recursive: true });
      writeFileSync(join(idx, stale), 'half');
      const second = await w.compact();
      assert.ok(second?.lines.includes('removed 3 stored images no item names (0.0 MiB)'), second?.lines.join('; '));
      assert.deepEqual(storedFiles(idx), sorted(['X', 'W', 'V']));
      assert.equal(index.imageFile('b'), join(idx, pathOf('X')));

      // b deleted too: X goes. Meanwhile Q is stored for a put that has not happened yet: held, it stays.
      const held = await w.storeImage(image('Q'), 'png');
      assert.equal(await w.remove('b'), true);
      await w.compact();
      assert.deepEqual(storedFiles(idx), sorted(['W', 'V', 'Q']));
      await w.put({ id: 'f', path: held.path, label: 'Q', size: held.size, hash: held.hash, stored: true }, vec(6));
      held.release();
      // e deleted: V goes; Q, now named by a put in the log (not yet compacted), stays.
      assert.equal(await w.remove('e'), true);
      const r = await w.compact();
      assert.deepEqual(storedFiles(idx), sorted(['W', 'Q']));
      assert.equal(r?.items, N + 2);
    });
    // Read-only afterwards: every live item's file is there.
    const reader = await openIndex(idx, { log: () => {} });
    try {
      for (const id of ['c', 'f']) assert.ok(existsSync(reader.imageFile(id) as string), id);
      for (const id of ['a', 'b', 'd', 'e']) assert.equal(reader.item(id), undefined, id);
    } finally {
      await reader.close();
    }
  });
}

/** `index compact`'s work in a child process, with NORMSOFTMAX_FAULT: deletes then compacts. */
function killedCompaction(idx: string, fault: string): ReturnType<typeof spawnSync> {
  const src = (file: string) => JSON.stringify(pathToFileURL(join(REPO, 'src', file)).href);
  const code = `
    import { acquireWriterLock } from ${src('io/writer-lock.ts')};
    import { openIndex } from ${src('search/open-index.ts')};
    const idx = process.env.IDX;
    const lock = acquireWriterLock(idx, 'test child');
    const index = await openIndex(idx, { writer: { lock, compactAbove: 100000 }, log: () => {} });
    for (const id of ['p', 'r', 's', 't']) await index.writer.remove(id);
    await index.writer.compact();
    console.log('compacted');
    await index.close();
    lock.release();`;
  // A file, not --eval: the search worker threads inherit the exec arguments.
  const script = join(dir, 'compact-child.mts');
  writeFileSync(script, code);
  return spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, IDX: idx, NORMSOFTMAX_FAULT: fault },
  });
}

const crashes: { fault: string; left: number }[] = [
  { fault: 'compact:before-manifest', left: 3 },
  { fault: 'compact:after-manifest', left: 3 },
  { fault: 'compact:remove-files@2', left: 2 },
];

for (const { fault, left } of crashes) {
  test(`usearch: SIGKILL at ${fault}: every live item's file is there, orphans go at the next compaction`, async () => {
    const idx = join(dir, `crash-${fault.replace(/\W/g, '-')}`);
    await buildIndex('usearch', idx);
    await withWriter(idx, async (_index, w) => {
      await putImage(w, 'p', 'X', 0);
      await putImage(w, 'q', 'X', 1);
      await putImage(w, 'r', 'Y', 2);
      await putImage(w, 's', 'Z', 3);
      await putImage(w, 't', 'W', 4);
      await w.compact();
    });
    const r = killedCompaction(idx, fault);
    assert.equal(r.signal, 'SIGKILL', `${r.stderr}`);
    assert.equal(r.stdout, '');
    // q names X; Y, Z, W are named by nobody: `left` of them are still there.
    const files = storedFiles(idx);
    assert.ok(files.includes(pathOf('X')), 'the file a live item names is there');
    assert.equal(files.length, 1 + left, files.join(', '));
    const reader = await openIndex(idx, { log: () => {} });
    try {
      assert.equal(reader.stats().items, N + 1);
      assert.ok(existsSync(reader.imageFile('q') as string));
      for (const id of ['p', 'r', 's', 't']) assert.equal(reader.item(id), undefined, id);
    } finally {
      await reader.close();
    }
    // The next compaction (or one with nothing to fold) removes the orphans.
    await withWriter(idx, async (index, w) => {
      await w.compact();
      assert.deepEqual(storedFiles(idx), [pathOf('X')]);
      assert.equal(index.stats().items, N + 1);
    });
  });
}
