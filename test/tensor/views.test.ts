// Views and joins: shapes, values and storage sharing, against hand-computed row-major layouts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { arange, cat, noGrad, scope, stack, type Tensor, tensor } from '../../src/tensor/index.js';

/** [2, 3, 4] holding 0..23 (float32). */
const cube = (): Tensor => arange(24).float().reshape(2, 3, 4);
const values = (t: Tensor): [readonly number[], number[]] => [t.shape, t.toArray()];

describe('views', () => {
  test('reshape and view (with -1), flatten', () => {
    scope(() => {
      assert.deepEqual(values(arange(6).reshape(3, -1)), [
        [3, 2],
        [0, 1, 2, 3, 4, 5],
      ]);
      assert.deepEqual(arange(6).view(2, 3).shape, [2, 3]);
      assert.deepEqual(cube().flatten().shape, [24]);
      assert.deepEqual(cube().flatten(1).shape, [2, 12]);
      assert.deepEqual(cube().flatten(0, 1).shape, [6, 4]);
    });
  });
  test('permute and transpose reorder elements; contiguous() makes a compact copy', () => {
    scope(() => {
      const p = cube().permute(2, 0, 1); // p[k][i][j] = 12 i + 4 j + k
      assert.deepEqual(p.shape, [4, 2, 3]);
      assert.equal(p.isContiguous(), false);
      assert.deepEqual(p.toArray().slice(0, 7), [0, 4, 8, 12, 16, 20, 1]);
      const c = p.contiguous();
      assert.equal(c.isContiguous(), true);
      assert.deepEqual(c.toArray(), p.toArray());
      const t = arange(6).reshape(2, 3).transpose(0, 1);
      assert.deepEqual(values(t), [
        [3, 2],
        [0, 3, 1, 4, 2, 5],
      ]);
      assert.deepEqual(arange(6).reshape(2, 3).T.toArray(), [0, 3, 1, 4, 2, 5]);
    });
  });
  test('slice (with step and negative dim), select, narrow', () => {
    scope(() => {
      const x = cube();
      assert.deepEqual(values(x.slice(2, 1, 4, 2)), [
        [2, 3, 2],
        [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23],
      ]);
      assert.deepEqual(values(x.slice(-1, 2)), [
        [2, 3, 2],
        [2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23],
      ]);
      assert.deepEqual(values(x.select(1, 2)), [
        [2, 4],
        [8, 9, 10, 11, 20, 21, 22, 23],
      ]);
      assert.deepEqual(values(x.select(0, -1).narrow(0, 1, 2)), [
        [2, 4],
        [16, 17, 18, 19, 20, 21, 22, 23],
      ]);
    });
  });
  test('unsqueeze, squeeze, expand', () => {
    scope(() => {
      const v = tensor([1, 2, 3]);
      assert.deepEqual(v.unsqueeze(0).shape, [1, 3]);
      assert.deepEqual(v.unsqueeze(-1).shape, [3, 1]);
      assert.deepEqual(v.unsqueeze(0).unsqueeze(2).squeeze().shape, [3]);
      assert.deepEqual(v.unsqueeze(1).squeeze(1).shape, [3]);
      assert.deepEqual(values(v.unsqueeze(1).expand(3, 2)), [
        [3, 2],
        [1, 1, 2, 2, 3, 3],
      ]);
    });
  });
  test('views share storage with their base', () => {
    scope(() => {
      const x = arange(6).float().reshape(2, 3);
      noGrad(() => {
        x.select(0, 1).fill_(-1);
        x.T.narrow(0, 0, 1).mul_(10);
      });
      assert.deepEqual(x.toArray(), [0, 1, 2, -10, -1, -1]);
      const copy = x.clone();
      copy.zero_();
      assert.deepEqual(x.toArray(), [0, 1, 2, -10, -1, -1], 'clone() does not share');
    });
  });
});

describe('joins and splits', () => {
  test('cat along dims 0 and 1', () => {
    scope(() => {
      const a = tensor([
        [1, 2],
        [3, 4],
      ]);
      const b = tensor([[5, 6]]);
      assert.deepEqual(values(cat([a, b])), [
        [3, 2],
        [1, 2, 3, 4, 5, 6],
      ]);
      assert.deepEqual(values(cat([a, a.mul(10)], 1)), [
        [2, 4],
        [1, 2, 10, 20, 3, 4, 30, 40],
      ]);
      assert.throws(() => cat([]), /at least one tensor/);
    });
  });
  test('stack makes a new dim', () => {
    scope(() => {
      const a = tensor([1, 2]);
      const b = tensor([3, 4]);
      assert.deepEqual(values(stack([a, b])), [
        [2, 2],
        [1, 2, 3, 4],
      ]);
      assert.deepEqual(values(stack([a, b], 1)), [
        [2, 2],
        [1, 3, 2, 4],
      ]);
    });
  });
  test('split by size (last part shorter), by sizes, and chunk', () => {
    scope(() => {
      const parts = arange(7).split(3);
      assert.deepEqual(
        parts.map((p) => p.toArray()),
        [[0, 1, 2], [3, 4, 5], [6]],
      );
      const cols = arange(8).reshape(2, 4).split([1, 3], 1);
      assert.deepEqual(cols.map(values), [
        [
          [2, 1],
          [0, 4],
        ],
        [
          [2, 3],
          [1, 2, 3, 5, 6, 7],
        ],
      ]);
      assert.deepEqual(
        arange(6)
          .chunk(3)
          .map((p) => p.toArray()),
        [
          [0, 1],
          [2, 3],
          [4, 5],
        ],
      );
    });
  });
});
