// How many decode workers the BatchLoader starts: one with the first image, another each time the caller
// has to wait for a batch, never more than asked for nor more than the cores.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
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

test('a caller that never has to wait is fed by one worker', async () => {
  const l = loader(2);
  try {
    for await (const b of l.batches([[0, 1, 2], [0, 1], [2]])) {
      b.dispose();
      await sleep(1000); // the next batches are decoded meanwhile
    }
    assert.equal(l.startedWorkers, 1);
  } finally {
    await l.close();
  }
});

test('a caller that waits for batches gets more workers, up to the limit', {
  skip: availableParallelism() < 2,
}, async () => {
  const l = loader(2);
  try {
    const batches = Array.from({ length: 12 }, () => [0, 1, 2]);
    for await (const b of l.batches(batches)) b.dispose();
    assert.equal(l.startedWorkers, 2);
  } finally {
    await l.close();
  }
});

test('never more workers than cores, and none before the first image', async () => {
  const l = loader(availableParallelism() + 3);
  assert.equal(l.workers, availableParallelism());
  assert.equal(l.startedWorkers, 0);
  await l.close();
});
