// index add | remove | compact through the real command: images embedded with the index's own model (the same
// vectors as the build's for the same picture) and stored under IDX/files/, ids added or replaced, removed (ids
// not there named, not an error), index info counting the log's writes, compaction folding them; vectors with
// embed's sidecar into a LanceDB index; the one-line refusals (a writer holding the lock named by its pid, no
// source, a model-less index given images, vectors of another dimension).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { saveNpy } from '../../src/io/npy.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { acquireWriterLock } from '../../src/io/writer-lock.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { writeLanceIndex } from '../../src/search/lancedb/write.js';
import { readManifest } from '../../src/search/manifest.js';
import { openIndex } from '../../src/search/open-index.js';
import { manualSeed, tensor } from '../../src/tensor/index.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { type ImageFolder, writeImageFolder } from '../helpers/images.js';
import { itemsOf, NO_EMBEDDER, randomUnit } from '../search/helpers.js';

process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false';
const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-index-live-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let folder: ImageFolder;
const weights = join(dir, 'w.safetensors');
const idx = join(dir, 'idx');

function run(args: string[], code = 0) {
  const r = runCli(args, { env: { NORMSOFTMAX_THREADS: '1' } });
  assert.equal(r.code, code, describeRun(args, r));
  return r;
}

before(async () => {
  folder = await writeImageFolder(join(dir, 'images'), 3, 4, { size: 28, noise: 96 });
  manualSeed(5);
  const model = createEmbedder({ arch: 'smallcnn', dim: 16 });
  saveSafetensors(weights, model.stateDict());
  model.dispose();
  run([
    'index',
    'build',
    '--out',
    idx,
    '--images',
    folder.root,
    '--checkpoint',
    weights,
    '--arch',
    'smallcnn',
    '--dim',
    '16',
    '--workers',
    '1',
  ]);
});

test('index add --images: embedded by the index model, stored in IDX/files/, added or replaced; remove; compact', async () => {
  const more = join(dir, 'more');
  mkdirSync(join(more, 'class0'), { recursive: true });
  mkdirSync(join(more, 'new'), { recursive: true });
  // The same picture under the same id (replaced), and a picture of class 2 under a new id.
  copyFileSync(folder.paths[0] as string, join(more, 'class0', 'img0.png'));
  const newPicture = folder.paths[9] as string;
  copyFileSync(newPicture, join(more, 'new', 'copy.png'));
  const id0 = 'class0/img0.png';
  const before0 = await openIndex(idx, { log: () => {} }).then(async (i) => {
    const v = i.vectorOf(id0);
    const vNew = i.vectorOf('class2/img1.png');
    await i.close();
    return { v, vNew };
  });
  assert.ok(before0.v && before0.vNew, 'the build named its items by relative path');

  const r = run(['index', 'add', '--index', idx, '--images', more, '--workers', '1']);
  assert.equal(r.stdout, `index ${idx}: 2 items written (1 new, 1 replaced, 2 images stored); 13 items\n`);
  assert.equal(readManifest(idx).version, 2);

  const info = run(['index', 'info', idx]).stdout;
  assert.match(info, /^items +13 \(12 in generation 1, then 2 writes in the log; index compact folds them\)$/m);
  const json = JSON.parse(run(['index', 'info', idx, '--json']).stdout) as { live: unknown; items: number };
  assert.deepEqual(json.live, { items: 13, logged: 2 });

  const index = await openIndex(idx, { log: () => {} });
  try {
    assert.equal(index.stats().items, 13);
    // The same picture gives the same vector as the build's: the index's model and pipeline.
    const v0 = index.vectorOf(id0) as Float32Array;
    assert.ok(v0.every((x, i) => Math.abs(x - (before0.v?.[i] as number)) < 1e-5));
    const vc = index.vectorOf('new/copy.png') as Float32Array;
    assert.ok(vc.every((x, i) => Math.abs(x - (before0.vNew?.[i] as number)) < 1e-5));
    const item = index.item('new/copy.png');
    const bytes = readFileSync(newPicture);
    const sha = createHash('sha256').update(bytes).digest('hex');
    assert.deepEqual(item, {
      id: 'new/copy.png',
      label: 'new',
      path: `files/${sha.slice(0, 2)}/${sha}.png`,
      size: bytes.length,
      hash: sha,
      stored: true,
    });
    assert.deepEqual(readFileSync(index.imageFile('new/copy.png') as string), bytes);
  } finally {
    await index.close();
  }

  const ids = join(dir, 'ids.txt');
  writeFileSync(ids, 'class1/img0.png\n\nnope\n');
  const rm = run(['index', 'remove', '--index', idx, '--id', 'new/copy.png', 'missing one']);
  assert.equal(rm.stdout, `index ${idx}: 1 items removed; 12 items\n`);
  assert.match(rm.stderr, /^not in the index \(nothing to remove\): "missing one"$/m);
  assert.equal(
    run(['index', 'remove', '--index', idx, '--ids-file', ids]).stdout,
    `index ${idx}: 1 items removed; 11 items\n`,
  );

  const c = run(['index', 'compact', '--index', idx]);
  // class0/img0.png replaced (its row hidden, put again), new/copy.png put then removed, class1/img0.png removed.
  assert.match(c.stdout, /^index .*: compacted 3 delta entries into generation 2 \(11 items\) in [\d.]+ s/);
  assert.equal(readManifest(idx).generation, 2);
  assert.equal(readManifest(idx).items, 11);
  assert.match(run(['index', 'info', idx]).stdout, /^items +11$/m);
  assert.equal(
    run(['index', 'compact', '--index', idx]).stdout,
    `index ${idx}: nothing to compact (the log is empty)\n`,
  );
  const after = await openIndex(idx, { log: () => {} });
  try {
    assert.equal(after.item('class1/img0.png'), undefined);
    assert.equal(after.item('new/copy.png'), undefined);
    const [hits] = await after.search([after.vectorOf(id0) as Float32Array], { k: 1, mode: 'float' });
    assert.equal(hits?.[0]?.id, id0);
  } finally {
    await after.close();
  }
});

test('add, remove and compact refuse in one line naming the pid while a writer holds the index', () => {
  const lock = acquireWriterLock(idx, 'serve --writable');
  try {
    for (const args of [
      ['index', 'add', '--index', idx, '--images', folder.root],
      ['index', 'remove', '--index', idx, '--id', 'class0/img1.png'],
      ['index', 'compact', '--index', idx],
    ]) {
      const r = run(args, 1);
      assert.equal(
        r.stderr.trim(),
        `normsoftmax: ${idx} is being written by another process: pid ${process.pid} (serve --writable, since ${lock.holder.startedAt}); wait for it to finish`,
      );
    }
  } finally {
    lock.release();
  }
});

test('index add --embeddings with --meta into a LanceDB index; the refusals', async () => {
  const D = 16;
  const lance = join(dir, 'lance');
  await writeLanceIndex(
    lance,
    { items: itemsOf(6), dim: D, vectors: randomUnit(6, D, 1) },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: { ...NO_EMBEDDER, dim: D },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
  const v = randomUnit(3, D, 2);
  const npy = join(dir, 'x.npy');
  saveNpy(npy, tensor(v, { shape: [3, D] }));
  const meta = join(dir, 'x.json');
  // Paths relative to the sidecar: two pictures that exist (stored), one that does not (no picture).
  const rel = (p: string) => p.slice(dir.length + 1);
  writeFileSync(
    meta,
    JSON.stringify({
      paths: [rel(folder.paths[0] as string), rel(folder.paths[5] as string), 'images/gone.png'],
      labels: ['a', 'b', 'c'],
    }),
  );
  const r = run(['index', 'add', '--index', lance, '--embeddings', npy, '--meta', meta]);
  assert.equal(r.stdout, `index ${lance}: 3 items written (3 new, 0 replaced, 2 images stored); 9 items\n`);
  const index = await openIndex(lance, { log: () => {} });
  try {
    assert.equal(index.stats().items, 9);
    assert.equal(index.item('class0/img0.png')?.stored, true);
    assert.equal(index.item('class0/img0.png')?.label, 'a');
    assert.deepEqual(index.item('gone.png'), { id: 'gone.png', label: 'c', path: null, size: null, hash: null });
    const [hits] = await index.search([v.slice(D, 2 * D)], { k: 1, mode: 'float' });
    assert.equal(hits?.[0]?.id, 'class1/img1.png');
  } finally {
    await index.close();
  }

  const wrong = join(dir, 'w.npy');
  saveNpy(wrong, tensor(randomUnit(2, 8, 3), { shape: [2, 8] }));
  const refusals: [string[], number, RegExp][] = [
    [['index', 'add', '--index', lance, '--embeddings', wrong], 3, /w\.npy: 8-d vectors, the index holds 16-d$/],
    [
      ['index', 'add', '--index', lance, '--images', folder.root],
      2,
      /was built from vectors \(no model\): add --embeddings/,
    ],
    [['index', 'add', '--index', lance], 2, /give exactly one source/],
    [['index', 'remove', '--index', lance], 2, /--id ID \.\.\. or --ids-file FILE/],
    [
      ['index', 'remove', '--index', lance, '--ids-file', join(dir, 'none.txt')],
      3,
      /--ids-file .*none\.txt: cannot read it \(ENOENT\)/,
    ],
  ];
  for (const [args, code, message] of refusals) {
    const e = run(args, code);
    assert.equal(e.stderr.trim().split('\n').length, 1, e.stderr);
    assert.match(e.stderr.trim(), message);
  }
  assert.equal(existsSync(join(lance, '.lock')), false, 'every refusal released the lock');
});
