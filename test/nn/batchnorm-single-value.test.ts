// Training BatchNorm on one value per channel is refused (as PyTorch), instead of a NaN running variance.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';
import { randn } from '../../src/tensor/index.js';

test('BatchNorm2d in training mode rejects one value per channel and keeps its running stats finite', () => {
  const bn = new BatchNorm2d(3);
  bn.train();
  assert.throws(() => bn.forward(randn([1, 3, 1, 1])), /expected more than 1 value per channel when training/);
  assert.ok(bn.runningVar.toArray().every(Number.isFinite));
  assert.equal(bn.numBatchesTracked.item(), 0);
  bn.eval();
  assert.deepEqual(bn.forward(randn([1, 3, 1, 1])).shape, [1, 3, 1, 1]);
});
