// index build / index info / search end to end through the command line: a folder of generated images
// embedded by bare resnet18 weights, an index from `embed`-style vectors, and bad input.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { saveNpy } from '../../src/io/npy.js';
import { tensor } from '../../src/tensor/index.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { writeImageFolder } from '../helpers/images.js';
import { writeResnetWeights } from '../helpers/weights.js';
import { randomUnit } from '../search/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-search-cli-'));
const images = join(dir, 'images');
const weights = join(dir, 'r18.safetensors');
const idx = join(dir, 'idx');
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await writeImageFolder(images, 3, 3, { size: 32 });
  writeResnetWeights(weights);
});

function ok(args: string[]) {
  const r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
  return r;
}

test('index build --images, index info, search --image / --id / --vectors', () => {
  const b = ok([
    'index',
    'build',
    '--out',
    idx,
    '--checkpoint',
    weights,
    '--arch',
    'resnet18',
    '--dim',
    '16',
    '--images',
    images,
    '--workers',
    '1',
  ]);
  assert.match(b.stdout, /9 items, 9 embedded, 0 unchanged; dim 16, f32, exact search/);
  const info = ok(['index', 'info', idx, '--verify']);
  assert.match(info.stdout, /items\s+9/);
  assert.match(info.stdout, /resnet18, dim 16, resize 256, crop 224/);
  const manifest = JSON.parse(ok(['index', 'info', idx, '--json']).stdout);
  assert.equal(manifest.format, 'normsoftmax-index');
  assert.equal(manifest.embedder.checkpointSha256.length, 64);

  // The query image is an indexed file: it finds itself first with cosine 1.
  const s = ok(['search', '--index', idx, '--image', join(images, 'class1', 'img2.png'), '-k', '3', '--json']);
  const line = JSON.parse(s.stdout.trim());
  assert.equal(line.results.length, 3);
  assert.deepEqual(Object.keys(line.results[0]), ['id', 'path', 'label', 'score']);
  assert.equal(line.results[0].id, 'class1/img2.png');
  assert.equal(line.results[0].label, 'class1');
  assert.ok(Math.abs(line.results[0].score - 1) < 1e-4, String(line.results[0].score));

  const byId = ok([
    'search',
    '--index',
    idx,
    '--id',
    'class0/img0.png',
    '--id',
    'class2/img1.png',
    '--mode',
    'binary',
    '-k',
    '2',
    '--json',
  ]);
  const rows = byId.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    rows.map((r) => r.query),
    [{ id: 'class0/img0.png' }, { id: 'class2/img1.png' }],
  );
  assert.equal(rows[0].results[0].score, 16);
  const table = ok([
    'search',
    '--index',
    idx,
    '--id',
    'class0/img0.png',
    '--mode',
    'rerank',
    '-k',
    '2',
    '--where',
    "label != 'class0'",
  ]);
  assert.match(table.stdout, /^query id class0\/img0.png\n\s+1\s+[0-9.]+\s+class[12]\//);

  // A second build over the same folder embeds nothing.
  assert.match(
    ok([
      'index',
      'build',
      '--out',
      idx,
      '--checkpoint',
      weights,
      '--arch',
      'resnet18',
      '--dim',
      '16',
      '--images',
      images,
    ]).stdout,
    /9 items, 0 embedded, 9 unchanged/,
  );
});

test('index build --embeddings with and without --meta; search --vectors', () => {
  const v = randomUnit(30, 12, 5);
  const npy = join(dir, 'x.npy');
  saveNpy(npy, tensor(v, { shape: [30, 12] }));
  const paths = Array.from({ length: 30 }, (_, i) => join(dir, 'pics', `p${i}.jpg`));
  writeFileSync(join(dir, 'x.json'), JSON.stringify({ paths, labels: paths.map((_, i) => i % 2) }));
  const withMeta = join(dir, 'emb-meta');
  ok(['index', 'build', '--out', withMeta, '--embeddings', npy, '--meta', join(dir, 'x.json'), '--precision', 'i8']);
  const bare = join(dir, 'emb');
  ok(['index', 'build', '--out', bare, '--embeddings', npy]);
  const q = join(dir, 'q.npy');
  saveNpy(q, tensor(v.slice(3 * 12, 5 * 12), { shape: [2, 12] }));
  const a = ok(['search', '--index', bare, '--vectors', q, '-k', '1', '--json'])
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    a.map((r) => [r.query, r.results[0].id, r.results[0].path]),
    [
      [{ row: 0 }, '3', null],
      [{ row: 1 }, '4', null],
    ],
  );
  const b = JSON.parse(
    ok(['search', '--index', withMeta, '--vectors', q, '-k', '1', '--json', '--exact']).stdout.split('\n')[0] as string,
  );
  assert.deepEqual([b.results[0].id, b.results[0].label], ['p3.jpg', '1']);
  const m = JSON.parse(readFileSync(join(withMeta, 'manifest.json'), 'utf8'));
  assert.equal(m.imageRoot, join(dir, 'pics'));
});

test('bad input: one line, the right exit code', () => {
  const cases: [string[], number, RegExp][] = [
    [['index', 'build', '--out', join(dir, 'x')], 2, /give exactly one source/],
    [['index', 'build', '--out', join(dir, 'x'), '--embeddings', join(dir, 'none.npy')], 3, /no such file/],
    [['search', '--index', idx, '--id', 'missing.png'], 3, /--id missing.png: no such item/],
    [['search', '--index', idx, '--image', join(dir, 'x.json')], 3, /--image .*x.json: cannot decode/],
    [
      ['search', '--index', idx, '--image', join(images, 'class0', 'img0.png'), '--checkpoint', join(dir, 'x.npy')],
      2,
      /not the one the index was built with/,
    ],
  ];
  for (const [args, code, message] of cases) {
    const r = runCli(args);
    assert.equal(r.code, code, describeRun(args, r));
    assert.match(r.stderr, message, describeRun(args, r));
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('normsoftmax')).length,
      1,
      describeRun(args, r),
    );
  }
});
