// Autograd gradients against central differences in float64 (test/helpers/gradcheck.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { F, Generator, rand, randn, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { gradcheck } from '../helpers/gradcheck.js';

const gen = new Generator(2019);
const normal = (...shape: number[]): Tensor => randn(shape, { dtype: 'float64', generator: gen });
const positive = (...shape: number[]): Tensor => rand(shape, { dtype: 'float64', generator: gen }).add(0.5);
const int64 = (values: number[], shape?: number[]): Tensor => tensor(values, { dtype: 'int64', shape });

function check(label: string, fn: (...x: Tensor[]) => Tensor, makeInputs: () => Tensor[]): void {
  test(label, () => scope(() => gradcheck(fn, makeInputs(), { label })));
}

describe('gradcheck helper', () => {
  test('detects a wrong gradient', () => {
    scope(() => {
      // d/dx of x * stopgrad(x) is x for autograd but 2x numerically.
      assert.throws(() => gradcheck((x) => x.mul(x.detach()), [normal(4)], { label: 'wrong' }), /wrong: d\/d input 0/);
    });
  });
  test('rejects float32 inputs (too coarse for central differences)', () => {
    scope(() => assert.throws(() => gradcheck((x) => x.exp(), [normal(3).float()]), /must be float64/));
  });
});

describe('linear algebra', () => {
  check(
    'matmul [3,4] @ [4,2]',
    (a, b) => a.matmul(b),
    () => [normal(3, 4), normal(4, 2)],
  );
  check(
    'batched, broadcasting matmul [2,3,4] @ [4,2]',
    (a, b) => a.matmul(b),
    () => [normal(2, 3, 4), normal(4, 2)],
  );
});

describe('layers', () => {
  check(
    'conv2d, stride 2, padding 1, bias',
    (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }),
    () => [normal(1, 2, 5, 5), normal(3, 2, 3, 3), normal(3)],
  );
  check(
    'conv2d, groups 2, no bias',
    (x, w) => F.conv2d(x, w, null, { groups: 2, padding: [0, 1] }),
    () => [normal(2, 4, 3, 3), normal(4, 2, 2, 2)],
  );
  check(
    'batch_norm, train mode (batch statistics)',
    (x, w, b) => F.batchNorm(x, { weight: w, bias: b, training: true }),
    () => [normal(4, 3, 2, 2), normal(3), normal(3)],
  );
  check(
    'layer_norm with affine',
    (x, w, b) => F.layerNorm(x, [5], { weight: w, bias: b }),
    () => [normal(3, 5), normal(5), normal(5)],
  );
  check(
    'layer_norm without affine',
    (x) => F.layerNorm(x, [2, 3]),
    () => [normal(2, 2, 3)],
  );
  check(
    'max_pool2d kernel 3, stride 2, padding 1',
    (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }),
    () => [normal(1, 2, 5, 5)],
  );
});

describe('losses and normalisation', () => {
  const target = () => int64([1, 0, 4, 1]);
  check(
    'cross_entropy, mean',
    (z) => F.crossEntropy(z, target()),
    () => [normal(4, 5)],
  );
  check(
    'cross_entropy, sum, label smoothing 0.1',
    (z) => F.crossEntropy(z, target(), { reduction: 'sum', labelSmoothing: 0.1 }),
    () => [normal(4, 5)],
  );
  check(
    'log_softmax',
    (x) => F.logSoftmax(x, 1),
    () => [normal(3, 5)],
  );
  check(
    'normalize (p 2, dim 1)',
    (x) => F.normalize(x),
    () => [normal(3, 4)],
  );
});

describe('elementwise', () => {
  check(
    'pow with a scalar exponent',
    (x) => x.pow(3),
    () => [normal(5)],
  );
  check(
    'pow with a tensor exponent (both sides)',
    (x, y) => x.pow(y),
    () => [positive(4), normal(4)],
  );
  check(
    'exp',
    (x) => x.exp(),
    () => [normal(2, 3)],
  );
  check(
    'log',
    (x) => x.log(),
    () => [positive(2, 3)],
  );
  check(
    'sqrt',
    (x) => x.sqrt(),
    () => [positive(2, 3)],
  );
});

describe('reductions', () => {
  check(
    'sum over all elements',
    (x) => x.sum(),
    () => [normal(3, 4)],
  );
  check(
    'sum over dims [0, 2]',
    (x) => x.sum([0, 2]),
    () => [normal(2, 3, 4)],
  );
  check(
    'mean over dim 1, keepdim',
    (x) => x.mean(1, true),
    () => [normal(3, 4)],
  );
  check(
    'var, unbiased, over dim 0',
    (x) => x.var(0),
    () => [normal(5, 3)],
  );
  check(
    'var, biased, all elements',
    (x) => x.var(undefined, { unbiased: false }),
    () => [normal(4, 2)],
  );
});

describe('indexing', () => {
  check(
    'gather along dim 1 (repeated indices accumulate)',
    (x) => x.gather(1, int64([0, 0, 3, 2, 1, 1], [3, 2])),
    () => [normal(3, 4)],
  );
  check(
    'index_select along dim 0 (repeated indices accumulate)',
    (x) => x.indexSelect(0, int64([2, 0, 2])),
    () => [normal(4, 3)],
  );
});
