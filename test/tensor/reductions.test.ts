// Reductions and ordering: sum, mean, var, max/min with indices, argmax, norm, topk and stable sort.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { assertClose } from './close.js';

/** [[1, 2, 3], [4, 5, 6]] */
const m = (): Tensor =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

describe('reductions', () => {
  test('sum over all, one dim, several dims, keepdim, and into another dtype', () => {
    scope(() => {
      assert.equal(m().sum().item(), 21);
      assert.deepEqual(m().sum(0).toArray(), [5, 7, 9]);
      assert.deepEqual(m().sum(-1).toArray(), [6, 15]);
      assert.deepEqual(m().sum(1, true).shape, [2, 1]);
      assert.equal(m().sum([0, 1]).item(), 21);
      const bytes = tensor([200, 100], { dtype: 'uint8' });
      assert.equal(bytes.sum(undefined, false, 'int64').item(), 300);
      assert.equal(bytes.sum().dtype, 'int64', 'integer sums widen to int64, as torch.sum');
    });
  });
  test('mean and var (unbiased by default, biased on request)', () => {
    scope(() => {
      assert.equal(m().mean().item(), 3.5);
      assert.deepEqual(m().mean(0).toArray(), [2.5, 3.5, 4.5]);
      // row [1, 2, 3]: squared deviations 1, 0, 1 -> unbiased 2 / 2 = 1, biased 2 / 3
      assertClose(m().var(1), [1, 1], {}, 'unbiased');
      assertClose(m().var(1, { unbiased: false }), [2 / 3, 2 / 3], {}, 'biased');
      // all six values: mean 3.5, sum of squared deviations 17.5
      assertClose([m().var().item()], [17.5 / 5], {}, 'var of all');
      assertClose([m().std().item()], [Math.sqrt(17.5 / 5)], {}, 'std of all');
    });
  });
  test('max and min with indices, argmax/argmin, and the global max/min', () => {
    scope(() => {
      const x = tensor([
        [3, 9, 1],
        [7, 2, 8],
      ]);
      const max = x.max(1);
      assert.deepEqual(max.values.toArray(), [9, 8]);
      assert.deepEqual(max.indices.toArray(), [1, 2]);
      assert.equal(max.indices.dtype, 'int64');
      const min = x.min(0, true);
      assert.deepEqual(min.values.shape, [1, 3]);
      assert.deepEqual(min.values.toArray(), [3, 2, 1]);
      assert.deepEqual(min.indices.toArray(), [0, 1, 0]);
      assert.equal(x.max().item(), 9);
      assert.equal(x.min().item(), 1);
      assert.deepEqual(x.argmax(0).toArray(), [1, 0, 1]);
      assert.equal(x.argmax().item(), 1, 'flat index');
      assert.deepEqual(x.argmin(1).toArray(), [2, 1]);
    });
  });
  test('norm: p = 2 and p = 1, over all and along a dim', () => {
    scope(() => {
      const x = tensor([
        [3, -4],
        [0, 5],
      ]);
      assertClose([x.norm().item()], [Math.sqrt(50)], {}, 'frobenius');
      assert.deepEqual(x.norm(2, 1).toArray(), [5, 5]);
      assert.deepEqual(x.norm(1, 0).toArray(), [3, 9]);
      assert.deepEqual(x.norm(1, 1, true).shape, [2, 1]);
    });
  });
});

describe('ordering', () => {
  test('topk: largest and smallest, sorted, along the last dim', () => {
    scope(() => {
      const x = tensor([
        [0.1, 0.9, 0.5, 0.7],
        [4, 1, 3, 2],
      ]);
      const top = x.topk(2);
      assert.deepEqual(
        top.values.toArray().map((v) => Math.round(v * 10) / 10),
        [0.9, 0.7, 4, 3],
      );
      assert.deepEqual(top.indices.toArray(), [1, 3, 0, 2]);
      const bottom = x.topk(3, { largest: false });
      assert.deepEqual(bottom.indices.toArray(), [0, 2, 3, 1, 3, 2]);
      assert.deepEqual(x.topk(1, { dim: 0 }).indices.toArray(), [1, 1, 1, 1]);
    });
  });
  test('sort is stable: equal values keep their index order, ascending and descending', () => {
    scope(() => {
      // enough equal keys that an unstable sort would very likely reorder them
      const keys = Array.from({ length: 64 }, (_, i) => (i * 7) % 4);
      const x = tensor(keys);
      const expectIndices = (descending: boolean) =>
        keys
          .map((k, i) => [k, i] as const)
          .sort((a, b) => (descending ? b[0] - a[0] : a[0] - b[0]) || a[1] - b[1])
          .map(([, i]) => i);
      const up = x.sort();
      assert.deepEqual(up.indices.toArray(), expectIndices(false));
      assert.deepEqual(
        up.values.toArray(),
        [...keys].sort((a, b) => a - b),
      );
      assert.deepEqual(x.sort({ descending: true }).indices.toArray(), expectIndices(true));
      assert.deepEqual(x.argsort({ descending: true }).toArray(), expectIndices(true));
    });
  });
  test('sort along dim 0 of a matrix', () => {
    scope(() => {
      const s = tensor([
        [3, 1],
        [1, 2],
        [2, 0],
      ]).sort({ dim: 0 });
      assert.deepEqual(s.values.toArray(), [1, 0, 2, 1, 3, 2]);
      assert.deepEqual(s.indices.toArray(), [1, 2, 2, 0, 0, 1]);
    });
  });
});
