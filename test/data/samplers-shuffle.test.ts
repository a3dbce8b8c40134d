import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShuffleSampler } from '../../src/data/samplers/shuffle.js';

const labels = Array.from({ length: 23 }, (_, i) => i % 4);

test('shuffle: each epoch is a permutation cut into batches, the last one smaller', () => {
  const s = new ShuffleSampler({ labels, batchSize: 5, seed: 1 });
  assert.equal(s.batchesPerEpoch, 5);
  const epochs = [0, 1, 2].map(() => [...s.epochBatches()]);
  for (const epoch of epochs) {
    assert.deepEqual(
      epoch.map((b) => b.length),
      [5, 5, 5, 5, 3],
    );
    assert.deepEqual(
      epoch.flat().sort((a, b) => a - b),
      labels.map((_, i) => i),
    );
  }
  assert.notDeepEqual(epochs[0], epochs[1]);
  assert.notDeepEqual(
    epochs[0]?.flat(),
    labels.map((_, i) => i),
  );
});

test('shuffle with dropLast: only full batches, no index twice in an epoch', () => {
  const s = new ShuffleSampler({ labels, batchSize: 5, dropLast: true, seed: 1 });
  assert.equal(s.batchesPerEpoch, 4);
  const epoch = [...s.epochBatches()];
  assert.equal(epoch.length, 4);
  for (const b of epoch) assert.equal(b.length, 5);
  assert.equal(new Set(epoch.flat()).size, 20);
  assert.equal(s.epoch, 1);
});

test('shuffle: determinism by seed, and resume mid-epoch equals the uninterrupted run', () => {
  const run = (seed: number, n: number) => {
    const s = new ShuffleSampler({ labels, batchSize: 4, seed });
    return Array.from({ length: n }, () => s.nextBatch());
  };
  const uninterrupted = run(3, 20);
  assert.deepEqual(run(3, 20), uninterrupted);
  assert.notDeepEqual(run(4, 20), uninterrupted);
  for (const cut of [1, 6, 7, 13]) {
    const first = new ShuffleSampler({ labels, batchSize: 4, seed: 3 });
    const drawn = Array.from({ length: cut }, () => first.nextBatch());
    const resumed = new ShuffleSampler({ labels, batchSize: 4, seed: 99 });
    resumed.restore(JSON.parse(JSON.stringify(first.state())));
    const rest = Array.from({ length: 20 - cut }, () => resumed.nextBatch());
    assert.deepEqual([...drawn, ...rest], uninterrupted, `resumed after ${cut} batches`);
  }
});

test('shuffle: bad settings and foreign states are rejected', () => {
  assert.throws(() => new ShuffleSampler({ labels, batchSize: 0 }), /--batch-size must be a positive integer/);
  assert.throws(() => new ShuffleSampler({ labels: [1, 2], batchSize: 3, dropLast: true }), /fewer than one batch/);
  const s = new ShuffleSampler({ labels, batchSize: 4 });
  const state = { ...s.state(), batch: 6 };
  assert.throws(() => s.restore(state), /epoch 0, batch 6 is invalid/);
  assert.throws(() => s.restore({ ...s.state(), kind: 'class-balanced' }), /from a "class-balanced" sampler/);
});
