import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runEval } from '../../src/cli/commands/eval.js';
import { parseKList } from '../../src/cli/parse-flags.js';
import { loadDataset } from '../../src/data/formats/index.js';
import { embedForEval } from '../../src/embed/embed-for-eval.js';
import { saveNpy } from '../../src/io/npy.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { CPU_BF16, onThisCpu } from '../helpers/cpu-bf16.js';
import { loadGoldenJson } from '../helpers/golden.js';
import { bruteForceRecall, rowsOf } from '../helpers/recall.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-eval-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const golden = loadGoldenJson('eval-knn.json');
const g = (name: string) => golden.tensors[name] as Tensor;
const file = (name: string, t: Tensor) => {
  const path = join(dir, name);
  saveNpy(path, t);
  return path;
};

scope(() => {
  file('x.npy', g('x'));
  file('labels.npy', g('labels'));
  file('labels32.npy', g('labels').to('int32'));
  file('query.npy', g('query'));
  file('query_labels.npy', g('query_labels'));
  file('gallery.npy', g('gallery'));
  file('gallery_labels.npy', g('gallery_labels').to('int32'));
  file('short_labels.npy', g('labels').narrow(0, 0, 10));
  file('float_labels.npy', g('labels').to('float32'));
  file('wide.npy', tensor([[1, 2, 3]]));
});

async function run(opts: Record<string, unknown>): Promise<string[]> {
  const lines: string[] = [];
  await runEval(opts, (l) => lines.push(l));
  return lines;
}

test('eval --json on one set prints exactly {float, binary} with the faiss recall', async () => {
  const lines = await run({
    embeddings: join(dir, 'x.npy'),
    labels: join(dir, 'labels32.npy'),
    k: '1,2,4,8',
    binary: true,
    nmi: true,
    mapR: true,
    nmiRestarts: '2',
    json: true,
  });
  assert.equal(lines.length, 1);
  const out = JSON.parse(lines[0] as string);
  assert.deepEqual(Object.keys(out), ['float', 'nmiMethod', 'binary']);
  assert.deepEqual(out.nmiMethod, { method: 'paper', average: 'geometric' });
  assert.deepEqual(out.float.recall, golden.extra.recall_self);
  assert.deepEqual(Object.keys(out.float).sort(), ['mapAtR', 'nmi', 'rPrecision', 'recall']);
  assert.deepEqual(Object.keys(out.binary.recall), ['1', '2', '4', '8']);
});

test('eval on query/gallery files writes a markdown table and an HTML page with images from the sidecar', async () => {
  const paths = Array.from({ length: 300 }, (_, i) => `images/g ${i}.jpg`);
  writeFileSync(join(dir, 'gallery.json'), JSON.stringify({ paths }));
  const report = join(dir, 'report');
  const lines = await run({
    queryEmbeddings: join(dir, 'query.npy'),
    queryLabels: join(dir, 'query_labels.npy'),
    galleryEmbeddings: join(dir, 'gallery.npy'),
    galleryLabels: join(dir, 'gallery_labels.npy'),
    binary: true,
    report,
  });
  const table = (lines[0] as string).split('\n');
  assert.match(table[0] as string, /^metric\s+float\s+binary$/);
  assert.match(table[1] as string, /^R@1 \(%\)\s+87\.14\s+\d+\.\d\d$/);
  const md = readFileSync(join(report, 'report.md'), 'utf8');
  assert.match(md, /\| R@8 \(%\) \| 100\.00 \| [\d.]+ \|/);
  assert.match(md, /70 queries against a gallery of 300/);
  const html = readFileSync(join(report, 'report.html'), 'utf8');
  // The page's table holds the values the command printed.
  const [, float1, binary1] = (table[1] as string).split(/\s{2,}/);
  assert.ok(html.includes(`<tr><td>R@1 (%)</td><td>${float1}</td><td>${binary1}</td></tr>`), 'R@1 row of report.html');
  assert.match(html, /<img src="\.\.\/images\/g%20\d+\.jpg"/);
  assert.ok(html.includes('class="hit"') && html.includes('class="query"'));
  assert.equal((html.match(/<figure class="(hit|miss)"/g) ?? []).length, 2 * 8 * 5);
  rmSync(join(dir, 'gallery.json'));
});

test('eval refuses bad inputs with one line naming the flag and file', async () => {
  const expectError = (opts: Record<string, unknown>, pattern: RegExp) => assert.rejects(run(opts), pattern);
  const x = join(dir, 'x.npy');
  await expectError(
    { embeddings: x, labels: join(dir, 'short_labels.npy') },
    /--labels .*short_labels\.npy has 10 labels but --embeddings .*x\.npy has 240 rows/,
  );
  await expectError(
    { embeddings: x, labels: join(dir, 'float_labels.npy') },
    /--labels .*: expected a 1-d integer array .* got float32/,
  );
  await expectError(
    { embeddings: join(dir, 'labels.npy'), labels: join(dir, 'labels.npy') },
    /--embeddings .*: expected a 2-d float array/,
  );
  await expectError({ embeddings: join(dir, 'missing.npy'), labels: x }, /missing\.npy: cannot open: no such file/);
  await expectError({ labels: x }, /--labels needs --embeddings/);
  await expectError({ embeddings: x }, /--embeddings .*x\.npy: no --labels given and no .*x\.json next to it/);
  writeFileSync(join(dir, 'float-labels.json'), JSON.stringify({ labels: [0.5, 1] }));
  await expectError(
    { embeddings: x, labels: join(dir, 'float-labels.json') },
    /--labels .*float-labels\.json: expected "labels": an array of integers/,
  );
  writeFileSync(join(dir, 'broken.json'), '{"labels": [1,');
  await expectError({ embeddings: x, labels: join(dir, 'broken.json') }, /--labels .*broken\.json: not valid JSON/);
  writeFileSync(join(dir, 'few-labels.json'), JSON.stringify({ labels: [0, 1, 2] }));
  await expectError(
    { embeddings: x, labels: join(dir, 'few-labels.json') },
    /--labels .*few-labels\.json has 3 labels but --embeddings .*x\.npy has 240 rows/,
  );
  await expectError({ embeddings: x, labels: x, queryLabels: x }, /exactly one input/);
  await expectError(
    { queryEmbeddings: x, queryLabels: join(dir, 'labels.npy') },
    /query\/gallery evaluation also needs --gallery-embeddings$/,
  );
  await expectError(
    {
      queryEmbeddings: join(dir, 'query.npy'),
      queryLabels: join(dir, 'query_labels.npy'),
      galleryEmbeddings: join(dir, 'wide.npy'),
      galleryLabels: join(dir, 'short_labels.npy'),
    },
    /has 10 labels but --gallery-embeddings .* has 1 rows/,
  );
  await expectError({ checkpoint: 'model.ckpt' }, /--checkpoint needs --dataset/);
  await expectError({ embeddings: x, labels: join(dir, 'labels.npy'), nmi: true, nmiAverage: 'max' }, /--nmi-average/);
  await expectError({ embeddings: x, labels: join(dir, 'labels.npy'), nmi: true, nmiMethod: 'faiss' }, /--nmi-method/);
  assert.throws(() => parseKList('1,,4'), /--k: expected a comma-separated list/);
  assert.deepEqual(parseKList('8, 1,2,2'), [1, 2, 8]);
});

test(onThisCpu('eval --checkpoint embeds the test split of a data set and evaluates it (self excluded)'), async () => {
  const model = createEmbedder({ arch: 'smallcnn', dim: 16 });
  const weights = join(dir, 'smallcnn.safetensors');
  saveSafetensors(weights, model.stateDict());
  model.dispose();
  const root = join(import.meta.dirname, '..', 'fixtures', 'datasets', 'fashion-mnist-package');
  const opts = {
    checkpoint: weights,
    arch: 'smallcnn',
    dim: '16',
    dataset: 'fashion-mnist',
    root,
    k: '1,7',
    json: true,
  };
  const out = JSON.parse((await run(opts))[0] as string);
  // The test split holds 8 images (one entry of the fixture is malformed and skipped) of 5 classes; two
  // classes have one image, which could only find itself: excluded, so even K = 7 (every other item) gives
  // 6 of 8.
  assert.deepEqual(Object.keys(out.float.recall), ['1', '7']);
  assert.equal(out.float.recall['7'], 75);
  // R@1 from the same embeddings, counted directly.
  const { query } = await embedForEval({
    checkpoint: weights,
    arch: 'smallcnn',
    dim: 16,
    dataset: loadDataset('fashion-mnist', root),
    silent: true,
  });
  const rows = rowsOf(query.embeddings.toTypedArray() as Float32Array, 16);
  query.embeddings.dispose();
  assert.deepEqual(out.float.recall, bruteForceRecall(rows, query.labels, [1, 7]));

  // --precision bf16: the forwards under autocast, the same evaluation of their embeddings; on a CPU without
  // native bf16, fp32 forwards (CPU_KIND says which this is)
  const bf16 = JSON.parse((await run({ ...opts, precision: 'bf16' }))[0] as string);
  const { query: q16 } = await embedForEval({
    checkpoint: weights,
    arch: 'smallcnn',
    dim: 16,
    dataset: loadDataset('fashion-mnist', root),
    silent: true,
    precision: CPU_BF16.native ? 'bf16' : 'fp32',
  });
  const rows16 = rowsOf(q16.embeddings.toTypedArray() as Float32Array, 16);
  q16.embeddings.dispose();
  assert.deepEqual(bf16.float.recall, bruteForceRecall(rows16, q16.labels, [1, 7]));
  if (!CPU_BF16.native) assert.deepEqual(bf16, out);
  await assert.rejects(run({ ...opts, precision: 'fp16' }), /--precision: expected fp32, bf16 or auto, got "fp16"/);
  await assert.rejects(
    run({ embeddings: join(dir, 'x.npy'), labels: join(dir, 'labels.npy'), precision: 'bf16' }),
    /--precision: applies to --checkpoint/,
  );
});

test('the eval command prints a usage error as one line with exit 2 and writes nothing', () => {
  const report = join(dir, 'no-report');
  const args = [
    'eval',
    '--embeddings',
    join(dir, 'x.npy'),
    '--labels',
    join(dir, 'short_labels.npy'),
    '--report',
    report,
  ];
  const r = runCli(args);
  assert.equal(r.code, 2, describeRun(args, r));
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^normsoftmax: --labels .* has 10 labels/);
  assert.ok(!existsSync(report));
});
