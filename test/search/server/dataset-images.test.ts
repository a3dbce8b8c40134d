// An index of an in-memory data set (fashion-mnist: pixels, no files), built by the real `index build` with a
// small CNN: its items carry the class names as labels, the server renders their pixels as PNG and WebP
// thumbnails (re-opening the data set the manifest names), every item finds itself first, and ids resolve
// only to indexed items whose pixels are still the indexed ones.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { saveSafetensors } from '../../../src/io/safetensors.js';
import { createEmbedder } from '../../../src/nn/embedder.js';
import { openIndex } from '../../../src/search/open-index.js';
import { createSearchServer } from '../../../src/search/server/app.js';
import type { VisualSearchIndex } from '../../../src/search/types.js';
import { manualSeed } from '../../../src/tensor/index.js';
import { describeRun, runCli } from '../../helpers/cli.js';

const PER_CLASS = 30;
const TEST_NAMES = ['sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'];
const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-dataset-images-'));
const pkg = join(dir, 'fashion-mnist');
const idx = join(dir, 'idx');
/** pixels[k][j]: image j of class k as written to the package. */
const pixels: number[][][] = [];
let index: VisualSearchIndex;
let app: FastifyInstance;
const logged: string[] = [];

function writeClass(k: number): void {
  writeFileSync(join(pkg, 'src', 'clothes', `${k}.json`), JSON.stringify({ data: pixels[k] }));
}

before(async () => {
  // A package folder in the npm package's layout: 30 seeded random 28x28 images per class.
  mkdirSync(join(pkg, 'src', 'clothes'), { recursive: true });
  let s = 7;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
  for (let k = 0; k < 10; k++) {
    pixels.push(Array.from({ length: PER_CLASS }, () => Array.from({ length: 784 }, next)));
    writeClass(k);
  }
  manualSeed(3);
  const model = createEmbedder({ arch: 'smallcnn', dim: 16 });
  saveSafetensors(join(dir, 'smallcnn.safetensors'), model.stateDict());
  model.dispose();
  const args = [
    'index',
    'build',
    '--out',
    idx,
    '--checkpoint',
    join(dir, 'smallcnn.safetensors'),
    '--arch',
    'smallcnn',
    '--dim',
    '16',
    '--dataset',
    'fashion-mnist',
    '--root',
    pkg,
    '--split',
    'test',
    '--workers',
    '1',
  ];
  const r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
  assert.match(r.stdout, /150 items, 150 embedded/);
  index = await openIndex(idx);
  app = createSearchServer({ index, embedder: null, log: (l) => logged.push(l) });
  await app.ready();
});

after(async () => {
  await app?.close();
  await index?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
/** Test item j of the split: class 5 + floor(j / 30), image j % 30. */
const idOf = (j: number) => `fashion-mnist:test/${j}`;
const url = (route: string, j: number) => `/api/${route}/${encodeURIComponent(idOf(j))}`;

test('the manifest names the data set source, and labels are the class names', () => {
  const m = JSON.parse(readFileSync(join(idx, 'manifest.json'), 'utf8'));
  assert.deepEqual(m.source, { kind: 'dataset', detail: { dataset: 'fashion-mnist', root: pkg, split: 'test' } });
  assert.equal(m.imageRoot, null);
  for (let j = 0; j < 150; j++) {
    const item = index.item(idOf(j));
    assert.equal(item?.label, TEST_NAMES[Math.floor(j / PER_CLASS)], idOf(j));
    assert.equal(item?.path, null);
  }
  assert.deepEqual(logged, []);
  // the small CNN takes the 28x28 pixels as they are: index info does not claim a resize and crop
  const info = runCli(['index', 'info', idx]);
  assert.match(info.stdout, /smallcnn, dim 16, input 28x28, no resize or crop\)/, info.stdout);
  assert.match(info.stdout, /source\s+dataset --dataset fashion-mnist --root .* --split test/);
});

test('search --where "label = \'sandal\'" keeps only sandals (the first 30 test items)', () => {
  const args = ['search', '--index', idx, '--id', idOf(100), '-k', '40', '--where', "label = 'sandal'", '--json'];
  const r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
  const hits = JSON.parse(r.stdout.trim()).results as { id: string; label: string }[];
  assert.equal(hits.length, PER_CLASS);
  assert.deepEqual(hits.map((h) => h.id).sort(), Array.from({ length: PER_CLASS }, (_, j) => idOf(j)).sort());
  assert.ok(hits.every((h) => h.label === 'sandal'));
});

test('GET /api/images/:id renders the pixels of the item as a PNG, with an ETag that answers 304', async () => {
  for (const j of [0, 37, 149]) {
    const r = await get(url('images', j));
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'image/png');
    const meta = await sharp(r.rawPayload).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 28, 28, 1]);
    const data = await sharp(r.rawPayload).extractChannel(0).raw().toBuffer();
    assert.deepEqual([...data], pixels[5 + Math.floor(j / PER_CLASS)]?.[j % PER_CLASS]);
    const again = await get(url('images', j), { 'if-none-match': r.headers.etag as string });
    assert.equal(again.statusCode, 304);
  }
});

test('GET /api/thumbs/:id: a WebP enlarged by a whole factor (28 -> 140 px in 160), cached', async () => {
  const r = await get(url('thumbs', 40));
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.headers['content-type'], 'image/webp');
  const meta = await sharp(r.rawPayload).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 140, 140]);
  const again = await get(url('thumbs', 40), { 'if-none-match': r.headers.etag as string });
  assert.equal(again.statusCode, 304);
  const other = await get(url('thumbs', 41));
  assert.notEqual(other.headers.etag, r.headers.etag);
});

test('GET /api/items/:id and /api/info say the items have pictures', async () => {
  const item = (await get(url('items', 3))).json();
  assert.equal(item.label, 'sandal');
  assert.equal(item.image, url('images', 3));
  assert.equal(item.thumb, url('thumbs', 3));
  assert.equal((await get('/api/info')).json().images, true);
});

test('every item found by its id finds itself first, with cosine 1 and a thumbnail URL', async () => {
  for (let j = 0; j < 150; j++) {
    const r = await app.inject({ method: 'POST', url: '/api/search', payload: { id: idOf(j), k: 3 } });
    assert.equal(r.statusCode, 200, r.body);
    const first = r.json().results[0];
    assert.equal(first.id, idOf(j));
    assert.ok(Math.abs(first.score - 1) < 1e-5, String(first.score));
    assert.equal(first.thumb, url('thumbs', j));
  }
});

test('ids resolve only to indexed items: not to other samples of the data set, nor to paths', async () => {
  for (const id of ['fashion-mnist:train/0', 'fashion-mnist:test/150', '../manifest.json', 'mnist:test/0']) {
    for (const route of ['images', 'thumbs', 'items']) {
      const r = await get(`/api/${route}/${encodeURIComponent(id)}`);
      assert.equal(r.statusCode, 404, `${route} ${id}: ${r.body}`);
      assert.match(r.json().error, /no item with id/);
    }
  }
});

test('pixels that changed since the build are not served as the item (404), the rest still are', async () => {
  const before = pixels[5]?.[0]?.slice() as number[];
  (pixels[5] as number[][])[0] = before.map((v) => 255 - v);
  writeClass(5);
  const changed = createSearchServer({ index, embedder: null, log: (l) => logged.push(l) });
  try {
    const r = await changed.inject({ method: 'GET', url: url('images', 0) });
    assert.equal(r.statusCode, 404);
    assert.match(r.json().error, /pixels in fashion-mnist test differ from the indexed ones/);
    assert.equal((await changed.inject({ method: 'GET', url: url('thumbs', 0) })).statusCode, 404);
    assert.equal((await changed.inject({ method: 'GET', url: url('images', 1) })).statusCode, 200);
    assert.equal((await changed.inject({ method: 'GET', url: url('items', 0) })).json().image, null);
  } finally {
    await changed.close();
    (pixels[5] as number[][])[0] = before;
    writeClass(5);
  }
});

test('a data set that cannot be opened again: one log line, searches still work, pictures are 404', async () => {
  rmSync(join(pkg, 'src', 'clothes', '9.json'));
  const lines: string[] = [];
  const blind = createSearchServer({ index, embedder: null, log: (l) => lines.push(l) });
  try {
    assert.equal(lines.length, 1);
    assert.match(lines[0] as string, /^items will have no pictures: fashion-mnist: .*9\.json not found/);
    const s = await blind.inject({ method: 'POST', url: '/api/search', payload: { id: idOf(5), k: 1 } });
    assert.equal(s.json().results[0].id, idOf(5));
    assert.equal((await blind.inject({ method: 'GET', url: url('images', 5) })).statusCode, 404);
    assert.equal((await blind.inject({ method: 'GET', url: '/api/info' })).json().images, false);
  } finally {
    await blind.close();
    writeClass(9);
  }
});
