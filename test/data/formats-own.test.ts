import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../../src/data/formats/index.js';
import { counts, EXPECTED, FIXTURES } from './formats-helpers.js';

const classOf = (path: string) => basename(dirname(path));

test('folder: classes sorted by name, first half (rounded up) train; non-images, hidden files, empty folders left out', () => {
  const root = join(FIXTURES, 'folder');
  const ds = loadDataset('folder', root);
  const e = EXPECTED.folder;
  assert.deepEqual(counts(ds), { train: e.train, test: e.test });
  assert.deepEqual([...new Set(ds.splits.train!.map((s) => classOf(s.path)))], ['Zebra', 'apple', 'banana split']);
  assert.deepEqual([...new Set(ds.splits.test!.map((s) => classOf(s.path)))], ['cherry', 'date']);
  assert.deepEqual(
    ds.splits.train!.map((s) => [basename(s.path), s.label]),
    [
      ['img0.jpg', 0],
      ['img1.PNG', 0],
      ['img0.jpg', 1],
      ['img1.jpeg', 1],
      ['img2.webp', 1],
      ['img0.png', 2],
    ],
  );
  assert.deepEqual(
    ds.splits.test!.map((s) => basename(s.path)),
    ['img0.jpg', 'img1.jpg', 'img0.JPG', 'img1.png'],
  );
  assert.deepEqual(ds.listProblems, [{ kind: 'empty class', detail: 'class folder empty class has no images' }]);
});

test('folder with --split-file: each class where the file says', () => {
  const ds = loadDataset('folder', join(FIXTURES, 'folder'), { splitFile: join(FIXTURES, 'folder-split.txt') });
  assert.deepEqual([...new Set(ds.splits.train!.map((s) => classOf(s.path)))], ['banana split', 'cherry']);
  assert.deepEqual([...new Set(ds.splits.test!.map((s) => classOf(s.path)))], ['Zebra', 'apple', 'date']);
  assert.deepEqual(counts(ds), { train: { images: 3, classes: 2 }, test: { images: 7, classes: 3 } });
});

test('folder split file errors name the file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'split-'));
  const file = join(dir, 'split.txt');
  const root = join(FIXTURES, 'folder');
  try {
    writeFileSync(file, 'train cherry\nvalidation apple\n');
    assert.throws(() => loadDataset('folder', root, { splitFile: file }), {
      message: `${file}:2: expected "train <class folder>" or "test <class folder>", found "validation apple"`,
    });
    writeFileSync(file, 'train cherry\ntest mango\n');
    assert.throws(() => loadDataset('folder', root, { splitFile: file }), {
      message: `${file}:2: no class folder with images named "mango"`,
    });
    writeFileSync(file, 'train cherry\ntest cherry\n');
    assert.throws(() => loadDataset('folder', root, { splitFile: file }), /:2: class "cherry" is listed twice/);
    writeFileSync(file, 'train cherry\n');
    assert.throws(() => loadDataset('folder', root, { splitFile: file }), {
      message: `${file}: no split for class folder "Zebra", "apple", "banana split" and 1 more (add "train <name>" or "test <name>" lines)`,
    });
    assert.throws(() => loadDataset('folder', root, { splitFile: join(dir, 'none.txt') }), /none.txt: file not found/);
    assert.throws(() => loadDataset('folder', dir), /folder: no class folders with images in/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('csv: path,label,split in any column order, quoted fields, paths relative to the csv', () => {
  const root = join(FIXTURES, 'csv');
  const ds = loadDataset('csv', root);
  assert.deepEqual(counts(ds), { train: EXPECTED.csv.train, test: EXPECTED.csv.test });
  assert.deepEqual(
    ds.splits.train!.map((s) => [s.path, s.label]),
    [
      [join(root, 'images', 'a 1.jpg'), 0],
      [join(root, 'images', 'b,1.jpg'), 1],
      [join(root, 'images', 'a 2.jpg'), 0],
    ],
  );
  assert.deepEqual(
    ds.splits.test!.map((s) => s.label),
    [0, 1, 0],
  );
  // --root may also be the file itself.
  assert.deepEqual(counts(loadDataset('csv', join(root, 'dataset.csv'))), counts(ds));
});

test('csv with is_query/is_gallery: test rows go to query, gallery or both, sharing one label mapping', () => {
  const root = join(FIXTURES, 'csv', 'retrieval.csv');
  const ds = loadDataset('csv', root);
  const e = EXPECTED['csv-retrieval'];
  assert.deepEqual(counts(ds), { train: e.train, query: e.query, gallery: e.gallery });
  assert.deepEqual(
    ds.splits.query!.map((s) => [basename(s.path), s.label]),
    [
      ['c1.png', 0],
      ['c2.png', 0],
    ],
  );
  assert.deepEqual(
    ds.splits.gallery!.map((s) => [basename(s.path), s.label]),
    [
      ['c1.png', 0],
      ['d1.png', 1],
    ],
  );
});

test('csv errors name the file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csv-'));
  const file = join(dir, 'dataset.csv');
  try {
    writeFileSync(file, 'file,class\na.jpg,1\n');
    assert.throws(() => loadDataset('csv', dir), {
      message: `${file}: the header needs the columns path,label,split (found "file,class")`,
    });
    writeFileSync(file, 'path,label,split\na.jpg,1,train\nb.jpg,2,val\n');
    assert.throws(() => loadDataset('csv', file), {
      message: `${file}:3: split must be train, test, query or gallery, found "val"`,
    });
    writeFileSync(file, 'path,label,split\na.jpg,1\n');
    assert.throws(() => loadDataset('csv', file), { message: `${file}:2: expected 3 columns, found 2` });
    writeFileSync(file, 'path,label,split,is_query\na.jpg,1,test,maybe\n');
    assert.throws(() => loadDataset('csv', file), /:2: is_query must be 1\/0, true\/false or yes\/no, found "maybe"/);
    writeFileSync(file, 'path,label,split,is_query,is_gallery\na.jpg,1,test,0,0\n');
    assert.throws(() => loadDataset('csv', file), /:2: test row with neither is_query nor is_gallery set/);
    writeFileSync(file, 'path,label,split\n"a.jpg,1,train\n');
    assert.throws(() => loadDataset('csv', file), { message: `${file}:2: a quoted field is never closed` });
    rmSync(file);
    assert.throws(() => loadDataset('csv', dir), {
      message: `csv: ${file} not found (give --root the CSV file itself)`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
