// index build over a folder: an incremental rebuild embeds only new and changed files and drops deleted
// ones; an interrupted build resumes without embedding its finished chunks again; bad images stop the
// build with nothing written, or are skipped and listed; a build holds the folder's writer lock.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BadImageError } from '../../src/data/image/bad-image-error.js';
import type { Sample } from '../../src/data/types.js';
import { acquireWriterLock, LockHeldError, readWriterLock } from '../../src/io/writer-lock.js';
import { buildIndex } from '../../src/search/build/build-index.js';
import type { ItemEmbedder } from '../../src/search/build/item-embedder.js';
import { imagesSource } from '../../src/search/build/sources.js';
import { openIndex } from '../../src/search/open-index.js';
import { sha256File } from '../../src/search/sha256.js';
import { writeImageFolder } from '../helpers/images.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-index-build-'));
const images = join(dir, 'images');
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await writeImageFolder(images, 2, 4, { size: 16 });
});

/** A stand-in model: the vector of a file is derived from its content hash; counts what it embeds. */
function fakeEmbedder(o: { failAfter?: number; bad?: string } = {}): ItemEmbedder & { embedded: string[] } {
  const embedded: string[] = [];
  let calls = 0;
  return {
    identity: {
      checkpointSha256: 'f'.repeat(64),
      checkpointPath: null,
      arch: 'fake',
      dim: 8,
      input: null,
      resize: 0,
      crop: 0,
    },
    description: 'fake',
    embedded,
    async embed(_dataset, samples: readonly Sample[]) {
      if (o.failAfter !== undefined && calls >= o.failAfter) throw new Error('interrupted');
      calls++;
      const bad = samples.find((s) => s.path === o.bad);
      if (bad) throw new BadImageError(bad.path, 'cannot decode image (corrupt)');
      const out = new Float32Array(samples.length * 8);
      samples.forEach((s, i) => {
        const h = sha256File(s.path);
        for (let j = 0; j < 8; j++) out[i * 8 + j] = Number.parseInt(h.slice(j * 2, j * 2 + 2), 16) - 127.5;
        embedded.push(s.path.slice(images.length + 1));
      });
      return out;
    },
    close() {},
  };
}

const build = (out: string, embedder: ItemEmbedder, o: { chunkSize?: number; skipBadImages?: boolean } = {}) =>
  buildIndex(imagesSource(images, [out]), {
    out,
    precision: 'f16',
    exactBelow: 50_000,
    skipBadImages: false,
    embedder,
    silent: true,
    ...o,
  });

test('a rebuild embeds only new and changed files; deleted files leave the index', async () => {
  const out = join(dir, 'incremental');
  const first = fakeEmbedder();
  const r1 = await build(out, first);
  assert.equal(r1.embedded, 8);
  assert.equal(first.embedded.length, 8);
  const before = await openIndex(out);
  const kept = before.vectorOf('class0/img1.png');
  assert.deepEqual(before.item('class1/img2.png')?.label, 'class1');
  await before.close();

  // Change one file, add one, delete one.
  await writeImageFolder(join(dir, 'other'), 3, 1, { size: 16 });
  copyFileSync(join(dir, 'other', 'class2', 'img0.png'), join(images, 'class0', 'img0.png'));
  copyFileSync(join(dir, 'other', 'class1', 'img0.png'), join(images, 'class1', 'new.png'));
  rmSync(join(images, 'class1', 'img3.png'));
  const second = fakeEmbedder();
  const r2 = await build(out, second);
  assert.deepEqual(second.embedded.sort(), ['class0/img0.png', 'class1/new.png']);
  assert.deepEqual([r2.items, r2.embedded, r2.reused, r2.removed], [8, 2, 6, 1]);
  const after2 = await openIndex(out);
  assert.equal(after2.item('class1/img3.png'), undefined);
  assert.ok(after2.item('class1/new.png'));
  assert.deepEqual(after2.vectorOf('class0/img1.png'), kept, 'an unchanged f16 vector is kept bit for bit');
  await after2.close();

  // Nothing changed: nothing embedded.
  const third = fakeEmbedder();
  assert.equal((await build(out, third)).embedded, 0);
  assert.equal(third.embedded.length, 0);
});

test('an interrupted build resumes: finished chunks are not embedded again', async () => {
  const out = join(dir, 'resume');
  const interrupted = fakeEmbedder({ failAfter: 2 });
  await assert.rejects(build(out, interrupted, { chunkSize: 3 }), /interrupted/);
  assert.equal(interrupted.embedded.length, 6);
  assert.ok(!existsSync(join(out, 'manifest.json')), 'no index before the build finishes');
  const resumed = fakeEmbedder();
  const r = await build(out, resumed, { chunkSize: 3 });
  assert.equal(resumed.embedded.length, r.items - 6);
  assert.equal(r.resumed, 6);
  assert.ok(!existsSync(join(out, '.partial')), 'progress removed once the index is written');
  // The resumed index equals a fresh one.
  const fresh = join(dir, 'fresh');
  await build(fresh, fakeEmbedder());
  const a = await openIndex(out);
  const b = await openIndex(fresh);
  for (const id of ['class0/img1.png', 'class1/img2.png']) assert.deepEqual(a.vectorOf(id), b.vectorOf(id));
  await a.close();
  await b.close();
});

test('a bad image stops the build with its path and nothing written; --skip-bad-images lists it', async () => {
  const bad = join(images, 'class0', 'img2.png');
  const out = join(dir, 'bad');
  await assert.rejects(build(out, fakeEmbedder({ bad })), {
    name: 'BadImageError',
    message: new RegExp(`${bad}: cannot decode`),
  });
  assert.ok(!existsSync(out), 'nothing written');
  const r = await build(out, fakeEmbedder({ bad }), { skipBadImages: true });
  assert.deepEqual(r.skipped, [bad]);
  const index = await openIndex(out);
  assert.equal(index.item('class0/img2.png'), undefined);
  assert.equal(index.stats().items, r.items);
  await index.close();
});

test('a build holds the writer lock: a second writer is refused with nothing touched; released afterwards', async () => {
  const out = join(dir, 'locked');
  const first = await build(out, fakeEmbedder());
  const other = acquireWriterLock(out, 'index build');
  const embedder = fakeEmbedder();
  await assert.rejects(build(out, embedder), (e: Error) => e instanceof LockHeldError && e.holder.pid === process.pid);
  assert.equal(embedder.embedded.length, 0, 'nothing embedded');
  other.release();
  // While a build runs, the lock names it; after, the folder has no lock.
  let during: number | undefined;
  const watching = fakeEmbedder();
  const embed = watching.embed.bind(watching);
  watching.embed = (d, s) => {
    during = readWriterLock(out)?.pid;
    return embed(d, s);
  };
  copyFileSync(join(images, 'class0', 'img1.png'), join(images, 'class1', 'extra.png'));
  const r = await build(out, watching);
  rmSync(join(images, 'class1', 'extra.png'));
  assert.equal(during, process.pid);
  assert.equal(r.items, first.items + 1);
  assert.equal(readWriterLock(out), null);
});
