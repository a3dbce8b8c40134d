import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../../src/data/formats/index.js';
import { counts, EXPECTED, FIXTURES, firstSeen } from './formats-helpers.js';

const classFolder = (path: string) => basename(dirname(path));

test('cub: classes 1-100 train, 101-200 test, labels in the order first seen', () => {
  const ds = loadDataset('cub', join(FIXTURES, 'cub'));
  const e = EXPECTED.cub;
  assert.deepEqual(counts(ds), { train: e.train, test: e.test });
  assert.equal(ds.splits.train?.[0]?.path, join(FIXTURES, 'cub', e.first_train));
  // images.txt lists class 3 first, then 1, 2, 100: labels follow that order, not the ids.
  const folderOfLabel = new Map(ds.splits.train!.map((s) => [s.label, classFolder(s.path)]));
  assert.deepEqual(
    [0, 1, 2, 3].map((l) => folderOfLabel.get(l)),
    ['003.Bird_3', '001.Bird_1', '002.Bird_2', '100.Bird_100'],
  );
  const testFolders = new Map(ds.splits.test!.map((s) => [s.label, classFolder(s.path)]));
  assert.deepEqual(
    [0, 1, 2, 3].map((l) => testFolders.get(l)),
    ['150.Bird_150', '101.Bird_101', '200.Bird_200', '102.Bird_102'],
  );
  assert.deepEqual(firstSeen(ds.splits.train!.map((s) => s.label)), [0, 1, 2, 3]);
  assert.deepEqual(ds.listProblems, []);
});

test('cub: --root may be the CUB_200_2011 folder itself', () => {
  const ds = loadDataset('cub', join(FIXTURES, 'cub', 'CUB_200_2011'));
  assert.deepEqual(counts(ds), { train: EXPECTED.cub.train, test: EXPECTED.cub.test });
});

test('cars196 from cars_annos.mat: classes 1-98 train, 99-196 test', () => {
  const ds = loadDataset('cars196', join(FIXTURES, 'cars196'));
  const e = EXPECTED.cars196;
  assert.deepEqual(counts(ds), { train: e.train, test: e.test });
  assert.equal(ds.splits.train?.[0]?.path, join(FIXTURES, 'cars196', e.first_train));
  // The annotations list class 2 (two images) before class 1 (three images).
  assert.deepEqual(
    ds.splits.train!.slice(0, 5).map((s) => s.label),
    [0, 0, 1, 1, 1],
  );
  // Class 99 comes first in the test part, with two images.
  assert.deepEqual(
    ds.splits.test!.slice(0, 3).map((s) => s.label),
    [0, 0, 1],
  );
  assert.deepEqual(ds.listProblems, []);
});

test('cars196 per-class-folder mirror: both csv files re-split by class, slashes in names become dashes', () => {
  const root = join(FIXTURES, 'cars196-mirror');
  const ds = loadDataset('cars196', root);
  const e = EXPECTED['cars196-mirror'];
  assert.deepEqual(counts(ds), { train: e.train, test: e.test });
  const [c0, c1, c2] = e.first_classes as number[];
  const labels = ds.splits.train!.slice(0, 3).map((s) => s.label);
  assert.deepEqual(labels[0] === labels[1], c0 === c1);
  assert.deepEqual(labels[1] === labels[2], c1 === c2);
  const ram = ds.splits.test!.find((s) => s.path.includes('Ram C-V Cargo Van'));
  assert.ok(ram, 'class 174 is read from its dashed folder');
  assert.match(ram.path, /car_data\/car_data\/(train|test)\/Ram C-V Cargo Van Minivan 2012\/\d{5}\.jpg$/);
  assert.deepEqual(ds.listProblems, []);
});

test('sop: Ebay_train.txt / Ebay_test.txt with their header; paths under Stanford_Online_Products', () => {
  const ds = loadDataset('sop', join(FIXTURES, 'sop'));
  assert.deepEqual(counts(ds), { train: EXPECTED.sop.train, test: EXPECTED.sop.test });
  const base = join(FIXTURES, 'sop', 'Stanford_Online_Products');
  assert.equal(ds.splits.train?.[0]?.path, join(base, 'bicycle_final', '110000000001_0.JPG'));
  // Test lists class 11319, then 11321, then 11320.
  assert.deepEqual(firstSeen(ds.splits.test!.map((s) => s.label)), [0, 1, 2]);
  assert.equal(ds.splits.test?.find((s) => s.path.includes('110000011321_0'))?.label, 1);
  assert.equal(ds.splits.test?.find((s) => s.path.includes('110000011320_0'))?.label, 2);
});

test('inshop: train/query/gallery, query and gallery share one label per item', () => {
  const root = join(FIXTURES, 'inshop');
  const ds = loadDataset('inshop', root);
  const e = EXPECTED.inshop;
  assert.deepEqual(counts(ds), { train: e.train, query: e.query, gallery: e.gallery });
  const labelOf = (split: 'query' | 'gallery', item: string) =>
    new Set(ds.splits[split]!.filter((s) => s.path.includes(`/${item}/`)).map((s) => s.label));
  for (const item of ['id_00000003', 'id_00000002']) {
    assert.deepEqual(labelOf('query', item), labelOf('gallery', item), item);
    assert.equal(labelOf('query', item).size, 1);
  }
  // id_00000003 comes first in the file among evaluation items, id_00000005 last.
  assert.deepEqual([...labelOf('gallery', 'id_00000003')], [0]);
  assert.deepEqual([...labelOf('gallery', 'id_00000005')], [2]);
  assert.equal(ds.splits.train?.[0]?.path, join(root, 'img/WOMEN/Dresses/id_00000001/01_1_front.jpg'));
  assert.deepEqual(ds.listProblems, []);
});

test('inshop: a count on line 1 that disagrees with the rows is a list problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inshop-'));
  try {
    writeFileSync(
      join(dir, 'list_eval_partition.txt'),
      '5\nimage_name item_id evaluation_status\nimg/a.jpg id_1 train\nimg/b.jpg id_2 query\n',
    );
    const ds = loadDataset('inshop', dir);
    assert.deepEqual(
      ds.listProblems.map((p) => p.kind),
      ['list mismatch'],
    );
    assert.match(ds.listProblems[0]!.detail, /declares 5 images but lists 2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing or malformed annotation files are one-line errors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'formats-'));
  try {
    cpSync(join(FIXTURES, 'cub'), join(dir, 'cub'), { recursive: true });
    const base = join(dir, 'cub', 'CUB_200_2011');
    rmSync(join(base, 'image_class_labels.txt'));
    assert.throws(() => loadDataset('cub', join(dir, 'cub')), {
      name: 'InputError',
      message: `${join(base, 'image_class_labels.txt')}: file not found`,
    });
    writeFileSync(join(base, 'image_class_labels.txt'), '1 3\n2 three\n');
    assert.throws(() => loadDataset('cub', join(dir, 'cub')), {
      message: `${join(base, 'image_class_labels.txt')}:2: expected "<image id> <class id>", found "2 three"`,
    });
    writeFileSync(join(base, 'image_class_labels.txt'), '1 3\n');
    assert.throws(
      () => loadDataset('cub', join(dir, 'cub')),
      /image_class_labels.txt: no class for image 2 \(.*images.txt:2\)/,
    );
    assert.throws(() => loadDataset('sop', dir), {
      message: `sop: Ebay_train.txt not found in ${dir} or ${join(dir, 'Stanford_Online_Products')}`,
    });
    assert.throws(() => loadDataset('cars196', dir), /cars196: neither .*cars_annos.mat .*nor anno_train.csv/);
    assert.throws(() => loadDataset('inshop', dir), /inshop: list_eval_partition.txt not found/);
    assert.throws(() => loadDataset('cub', join(dir, 'nope')), {
      message: `cub: --root ${join(dir, 'nope')} does not exist`,
    });
    writeFileSync(join(dir, 'cars_annos.mat'), 'MATLAB 7.3 MAT-file, Platform: x, created by HDF5');
    assert.throws(() => loadDataset('cars196', dir), /cars_annos.mat: .*file is shorter than the 128-byte/);
    writeFileSync(join(dir, 'cars_annos.mat'), `MATLAB 7.3 MAT-file${' '.repeat(200)}`);
    assert.throws(() => loadDataset('cars196', dir), /cars_annos.mat: MATLAB 7.3 files are HDF5, not supported/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the registry: unknown names list the known ones; --split-file only for folder', () => {
  assert.throws(() => loadDataset('imagenet', '.'), {
    message: 'unknown dataset "imagenet"; known: cub, cars196, sop, inshop, folder, csv, fashion-mnist, mnist',
  });
  assert.throws(
    () => loadDataset('cub', join(FIXTURES, 'cub'), { splitFile: 'x' }),
    /--split-file applies to the folder format only/,
  );
  assert.throws(() => loadDataset('cub', ''), { name: 'UsageError', message: '--root is required for --dataset cub' });
});
