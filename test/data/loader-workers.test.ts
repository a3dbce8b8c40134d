// How many decode workers the BatchLoader starts: as many as asked for, never more than the cores, with
// the first image.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TransformConfig } from '../../src/data/image/transform-config.js';
import { BatchLoader } from '../../src/data/loader/batch-loader.js';
import type { Sample } from '../../src/data/types.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

const DIR = join(GOLDEN_DIR, 'pipeline');
const SAMPLES: Sample[] = ['photo.jpg', 'gray.jpg', 'small.png'].map((f) => ({ path: join(DIR, f), label: 0 }));
const SMALL: TransformConfig = {
  resize: { width: 40, height: 36 },
  crop: { width: 32, height: 28 },
  flipProbability: 0,
  colorOrder: 'RGB',
  range: 1,
  mean: [0, 0, 0],
  std: [1, 1, 1],
};

function loader(workers: number): BatchLoader {
  return new BatchLoader({ dataset: {}, samples: SAMPLES, transform: SMALL, mode: 'eval', workers, prefetch: 2 });
}

test('never more workers than cores, and none before the first image', async () => {
  const l = loader(availableParallelism() + 3);
  try {
    assert.equal(l.workers, availableParallelism());
    assert.equal(l.startedWorkers, 0);
    for await (const b of l.batches([[0, 1, 2]])) b.dispose();
    assert.equal(l.startedWorkers, availableParallelism());
  } finally {
    await l.close();
  }
});
