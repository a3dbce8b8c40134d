// The spec's counts (section 5) on the real archives, when they are on this machine: set
// NORMSOFTMAX_REAL_DATA to a folder holding any of cub/, cars196/, sop/, inshop/ (each as its --root).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../../src/data/formats/index.js';
import { cannotApplyHere } from '../helpers/skip.js';
import { counts } from './formats-helpers.js';

const REAL = process.env.NORMSOFTMAX_REAL_DATA;

const SPEC = {
  cub: { train: { images: 5864, classes: 100 }, test: { images: 5924, classes: 100 } },
  cars196: { train: { images: 8054, classes: 98 }, test: { images: 8131, classes: 98 } },
  sop: { train: { images: 59551, classes: 11318 }, test: { images: 60502, classes: 11316 } },
  inshop: {
    train: { images: 25882, classes: 3997 },
    query: { images: 14218, classes: 3985 },
    gallery: { images: 12612, classes: 3985 },
  },
};

for (const [name, expected] of Object.entries(SPEC)) {
  const root = REAL === undefined ? undefined : join(REAL, name);
  const skip = cannotApplyHere(
    REAL === undefined
      ? 'NORMSOFTMAX_REAL_DATA is not set (a folder with the real archives)'
      : !existsSync(root!) && `${root} does not exist`,
  );
  test(`${name} on the real archive has the spec's counts`, { skip }, () => {
    assert.deepEqual(counts(loadDataset(name, root!)), expected);
  });
}
