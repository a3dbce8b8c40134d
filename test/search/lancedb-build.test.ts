// index build --backend lancedb over an image folder: a rebuild embeds only new and changed files (the
// vectors of unchanged ones come back from the Lance table), deleted files leave the table, and the Lance
// table moves to a new version instead of being rewritten.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Sample } from '../../src/data/types.js';
import { buildIndex } from '../../src/search/build/build-index.js';
import type { ItemEmbedder } from '../../src/search/build/item-embedder.js';
import { imagesSource } from '../../src/search/build/sources.js';
import { type LanceManifest, readLanceManifest } from '../../src/search/lancedb/layout.js';
import { openIndex } from '../../src/search/open-index.js';
import { sha256File } from '../../src/search/sha256.js';
import { writeImageFolder } from '../helpers/images.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-lancedb-build-'));
const images = join(dir, 'images');
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await writeImageFolder(images, 2, 4, { size: 16 });
});

/** A stand-in model: a file's vector comes from its content hash; records what it embeds. */
function fakeEmbedder(): ItemEmbedder & { embedded: string[] } {
  const embedded: string[] = [];
  return {
    identity: {
      checkpointSha256: 'e'.repeat(64),
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

const build = (out: string, embedder: ItemEmbedder) =>
  buildIndex(imagesSource(images, [out]), {
    out,
    precision: 'f32',
    backend: 'lancedb',
    exactBelow: 50_000,
    skipBadImages: false,
    embedder,
    silent: true,
  });

test('a LanceDB rebuild embeds only new and changed files; deleted files leave the table', async () => {
  const out = join(dir, 'idx');
  const first = fakeEmbedder();
  assert.equal((await build(out, first)).embedded, 8);
  const v1 = readLanceManifest(out).lance.tableVersion;
  const before = await openIndex(out);
  const kept = before.vectorOf('class0/img1.png');
  await before.close();

  await writeImageFolder(join(dir, 'other'), 3, 1, { size: 16 });
  copyFileSync(join(dir, 'other', 'class2', 'img0.png'), join(images, 'class0', 'img0.png'));
  copyFileSync(join(dir, 'other', 'class1', 'img0.png'), join(images, 'class1', 'new.png'));
  rmSync(join(images, 'class1', 'img3.png'));
  const second = fakeEmbedder();
  const r2 = await build(out, second);
  assert.deepEqual(second.embedded.sort(), ['class0/img0.png', 'class1/new.png']);
  assert.deepEqual([r2.items, r2.embedded, r2.reused, r2.removed], [8, 2, 6, 1]);
  assert.equal(r2.manifest.backend, 'lancedb');
  assert.ok((r2.manifest as LanceManifest).lance.tableVersion > v1);

  const idx = await openIndex(out);
  try {
    assert.equal(idx.stats().items, 8);
    assert.equal(idx.item('class1/img3.png'), undefined);
    assert.equal(idx.item('class1/new.png')?.label, 'class1');
    assert.deepEqual(idx.vectorOf('class0/img1.png'), kept, 'an unchanged vector is kept bit for bit');
    const hits = await idx.search([idx.vectorOf('class1/new.png') as Float32Array], { k: 1, mode: 'float' });
    assert.equal(hits[0]?.[0]?.id, 'class1/new.png');
  } finally {
    await idx.close();
  }
  await assert.rejects(
    buildIndex(imagesSource(images, [out]), {
      out,
      precision: 'f32',
      exactBelow: 50_000,
      skipBadImages: false,
      embedder: fakeEmbedder(),
      silent: true,
    }),
    /--backend usearch: .* holds a lancedb index/,
  );
});
