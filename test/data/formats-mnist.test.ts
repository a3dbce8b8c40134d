import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../../src/data/formats/index.js';
import { counts, EXPECTED, FIXTURES } from './formats-helpers.js';

function perClass(expected: Record<string, number>, classes: number[]): number {
  return classes.reduce((sum, k) => sum + expected[k]!, 0);
}

test('mnist package layout: flat 0..1 arrays, classes 0-4 train, 5-9 test, malformed images skipped', () => {
  const root = join(FIXTURES, 'mnist-package');
  const ds = loadDataset('mnist', root);
  const e = EXPECTED.mnist;
  assert.deepEqual(counts(ds), {
    train: { images: perClass(e.per_class, [0, 1, 2, 3, 4]), classes: 5 },
    test: { images: perClass(e.per_class, [5, 6, 7, 8, 9]), classes: 5 },
  });
  const first = ds.splits.train![0]!;
  assert.equal(first.path, 'mnist:train/0');
  const raw = ds.readRaw!(first);
  assert.deepEqual([raw.width, raw.height, raw.channels, raw.data.length], [28, 28, 1, 784]);
  assert.deepEqual(Array.from(raw.data), e.first_pixels);
  // Labels: class k of the test half is label k-5.
  assert.deepEqual([...new Set(ds.splits.test!.map((s) => s.label))], [0, 1, 2, 3, 4]);
  assert.deepEqual(ds.notes, [
    `${join(root, 'src', 'digits', '0.json')}: skipped 1 malformed entry`,
    `${join(root, 'src', 'digits', '9.json')}: skipped 1 malformed entry`,
  ]);
});

test('fashion-mnist package layout: one array per image; empty, short and out-of-range entries skipped', () => {
  const root = join(FIXTURES, 'fashion-mnist-package');
  const ds = loadDataset('fashion-mnist', root);
  const e = EXPECTED['fashion-mnist'];
  assert.deepEqual(counts(ds), {
    train: { images: perClass(e.per_class, [0, 1, 2, 3, 4]), classes: 5 },
    test: { images: perClass(e.per_class, [5, 6, 7, 8, 9]), classes: 5 },
  });
  const first = ds.splits.test![0]!;
  assert.equal(first.path, 'fashion-mnist:test/0');
  assert.deepEqual(Array.from(ds.readRaw!(first).data), e.first_test_pixels);
  assert.equal(ds.notes?.length, 2);
  assert.match(ds.notes![0]!, /clothes\/0.json: skipped 2 malformed entries$/);
  assert.throws(() => ds.readRaw!({ path: 'fashion-mnist:test/999', label: 0 }), /no image fashion-mnist:test\/999/);
  assert.throws(() => ds.readRaw!({ path: 'mnist:test/0', label: 0 }), /no image mnist:test\/0/);
});

test('a missing class file names the file', () => {
  assert.throws(() => loadDataset('mnist', join(FIXTURES, 'cub')), /mnist: .*src\/digits\/0.json not found/);
});
