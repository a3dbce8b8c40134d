// What a crash or a full disk in the middle of writing an index leaves, in process (the SIGKILL tests of
// the real command are crash-cli.test.ts): every file of the usearch writer is temp -> fsync -> rename ->
// folder fsync with the manifest last, so a failure before the manifest leaves the previous index whole;
// a LanceDB index is read at the table version its manifest names, so a build that committed the table
// but not the manifest (another model's vectors) is invisible to readers and rolled back, not reused, by
// the next build. (A thrown ENOSPC at `before-manifest` stands in for a crash there.)
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { DiskFullError } from '../../src/io/disk-full.js';
import { acquireWriterLock, LockHeldError } from '../../src/io/writer-lock.js';
import { buildIndex } from '../../src/search/build/build-index.js';
import { listImageFiles } from '../../src/search/build/image-files.js';
import type { ItemEmbedder } from '../../src/search/build/item-embedder.js';
import { imagesSource } from '../../src/search/build/sources.js';
import { type LanceManifest, readLanceManifest } from '../../src/search/lancedb/layout.js';
import { openLanceIndex } from '../../src/search/lancedb/open.js';
import { readLanceContent } from '../../src/search/lancedb/read-content.js';
import { verifyLanceIndex } from '../../src/search/lancedb/verify.js';
import { MANIFEST_NAME, readManifest } from '../../src/search/manifest.js';
import { openIndex } from '../../src/search/open-index.js';
import { verifyFiles } from '../../src/search/verify.js';
import { assertDurable, traceDurableWrites } from '../helpers/fs-trace.js';
import { type ImageFolder, writeImageFolder } from '../helpers/images.js';
import { hashEmbedder, hashVector } from './hash-embedder.js';
import { randomUnit, write } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-crash-recovery-'));
let folder: ImageFolder;
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  folder = await writeImageFolder(join(dir, 'images'), 2, 3, { size: 16 });
});
afterEach(() => {
  delete process.env.NORMSOFTMAX_FAULT;
});

const temps = (d: string) => readdirSync(d).filter((f) => f.includes('.tmp'));

test('usearch: each data file, HNSW graph and the manifest is temp -> fsync -> rename -> folder fsync, manifest last', async () => {
  const idx = join(dir, 'order');
  let manifest: Awaited<ReturnType<typeof write>> | undefined;
  const steps = await traceDurableWrites(async () => {
    manifest = await write(idx, randomUnit(40, 8, 3), 8, { exactBelow: 10 });
  });
  const names = (manifest?.files ?? []).map((f) => f.name);
  assert.deepEqual(
    names.map((n) => n.replace(/^g1-/, '')),
    ['vectors.f32', 'codes.bin', 'items.jsonl', 'hnsw-float.usearch', 'hnsw-binary.usearch'],
  );
  const last = Math.max(...names.map((n) => assertDurable(steps, n, basename(idx))));
  assert.ok(assertDurable(steps, MANIFEST_NAME, basename(idx)) > last, 'the manifest is renamed after every data file');
});

test('usearch: a full disk writing a data file or the manifest leaves the previous index whole, no temp file', async () => {
  const idx = join(dir, 'full');
  await write(idx, randomUnit(12, 8, 1), 8);
  writeFileSync(join(idx, `${MANIFEST_NAME}.tmp-1-2`), '{'); // litter of a writer killed long ago
  for (const point of ['write-data', 'write-manifest']) {
    process.env.NORMSOFTMAX_FAULT = `index-build:${point}=enospc`;
    await assert.rejects(write(idx, randomUnit(15, 8, 2), 8), DiskFullError);
    delete process.env.NORMSOFTMAX_FAULT;
    const m = readManifest(idx);
    assert.equal(m.generation, 1, point);
    assert.equal(m.items, 12, point);
    verifyFiles(idx, m);
    assert.deepEqual(temps(idx), [`${MANIFEST_NAME}.tmp-1-2`], point);
  }
  const m = await write(idx, randomUnit(15, 8, 2), 8);
  assert.equal(m.generation, 2);
  assert.deepEqual(readdirSync(idx).sort(), [...m.files.map((f) => f.name), MANIFEST_NAME].sort());
});

const buildLance = (out: string, embedder: ItemEmbedder, log?: (l: string) => void) =>
  buildIndex(imagesSource(folder.root, [out]), {
    out,
    precision: 'f32',
    backend: 'lancedb',
    exactBelow: 50_000,
    skipBadImages: false,
    embedder,
    silent: true,
    log,
  });

async function assertModelA(idx: string, what: string): Promise<void> {
  const index = await openIndex(idx);
  const paths = listImageFiles(folder.root);
  try {
    assert.equal(index.stats().items, paths.length, what);
    for (const path of paths) {
      const id = path.slice(folder.root.length + 1);
      assert.deepEqual(index.vectorOf(id), hashVector(path), `${what}: ${id} has model A's vector`);
      const [hits] = await index.search([index.vectorOf(id) as Float32Array], { k: 1, mode: 'float' });
      assert.equal(hits?.[0]?.id, id, `${what}: ${id} finds itself`);
    }
  } finally {
    await index.close();
  }
}

test("lancedb: a build killed between its table commit and its manifest (another model's vectors) is invisible and rolled back", async (t) => {
  const idx = join(dir, 'lance');
  await buildLance(idx, hashEmbedder({ checkpoint: 'a' }));
  const pinned = readLanceManifest(idx).lance.tableVersion;

  process.env.NORMSOFTMAX_FAULT = 'index-build:before-manifest=enospc';
  await assert.rejects(buildLance(idx, hashEmbedder({ checkpoint: 'b', negate: true })), /ENOSPC/);
  delete process.env.NORMSOFTMAX_FAULT;
  const m = readLanceManifest(idx);
  assert.equal(m.lance.tableVersion, pinned, "the manifest still names model A's version");
  const latest = await openLanceIndex(idx, { version: pinned }).then(async (i) => {
    const v = (await i.versions()).at(-1)?.version;
    await i.close();
    return v as number;
  });
  assert.ok(latest > pinned, `model B's rows were committed (latest version ${latest})`);

  await assertModelA(idx, 'open after the crash');
  await verifyLanceIndex(idx, m);
  const content = await readLanceContent(idx);
  assert.deepEqual(content.vectors.subarray(0, 8), hashVector(join(folder.root, content.items[0]?.id as string)));

  // The rebuild has something to write (one new image): it writes on top of the manifest's version.
  const extra = join(folder.root, 'class1', 'extra.png');
  const more = await writeImageFolder(join(dir, 'more'), 3, 1, { size: 16, noise: 200 });
  copyFileSync(more.paths[2] as string, extra);
  t.after(() => rmSync(extra, { force: true }));
  const log: string[] = [];
  const again = hashEmbedder({ checkpoint: 'a' });
  const r = await buildLance(idx, again, (l) => log.push(l));
  assert.deepEqual(again.embedded, [extra], "model A's vectors are reused from the manifest's version");
  assert.equal(r.reused, folder.paths.length);
  assert.ok(
    log.some((l) => l.includes(`ahead of the manifest's ${pinned} (an interrupted write): rolled back to ${pinned}`)),
    log.join('\n'),
  );
  await assertModelA(idx, 'after the rebuild');
  await verifyLanceIndex(idx, readLanceManifest(idx));
});

test('lancedb: a manifest naming a version the table lacks is refused; add/delete hold the writer lock', async () => {
  const idx = join(dir, 'lance-lost');
  await buildLance(idx, hashEmbedder({ checkpoint: 'a' }));
  const m = readLanceManifest(idx);
  const index = await openLanceIndex(idx);
  const item = { id: 'extra', path: null, label: null, size: null, hash: null };
  const lock = acquireWriterLock(idx, 'index build');
  await assert.rejects(index.add([item], hashVector(folder.paths[0] as string)), LockHeldError);
  lock.release();
  await index.add([item], hashVector(folder.paths[0] as string));
  assert.equal(readLanceManifest(idx).items, m.items + 1);
  // Another writer changes the folder under the open index: its next write is refused.
  await buildLance(idx, hashEmbedder({ checkpoint: 'a' }));
  await assert.rejects(index.delete(['extra']), /changed by another writer since it was opened/);
  await index.close();

  const lost: LanceManifest = { ...readLanceManifest(idx), lance: { ...m.lance, tableVersion: 999 } };
  writeFileAtomic(join(idx, MANIFEST_NAME), JSON.stringify(lost));
  await assert.rejects(
    openIndex(idx),
    /names version 999 of the Lance table, which has no such version .*rebuild the index/,
  );
  const log: string[] = [];
  await buildLance(idx, hashEmbedder({ checkpoint: 'a' }), (l) => log.push(l));
  assert.ok(log.some((l) => l.includes('cannot be reused')));
  assert.ok(log.some((l) => l.includes('writing it anew')));
  await assertModelA(idx, 'rebuilt');
});
