// Elementwise arithmetic with broadcasting, type promotion, comparisons, where, clamp and unary maths.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scope, tensor, where } from '../../src/tensor/index.js';
import { assertClose } from './close.js';

describe('arithmetic', () => {
  test('broadcasts [2, 1] with [3] to [2, 3]', () => {
    scope(() => {
      const col = tensor([[1], [10]]);
      const row = tensor([1, 2, 3]);
      const sum = col.add(row);
      assert.deepEqual(sum.shape, [2, 3]);
      assert.deepEqual(sum.toArray(), [2, 3, 4, 11, 12, 13]);
      assert.deepEqual(col.sub(row, 2).toArray(), [-1, -3, -5, 8, 6, 4], 'a - alpha * b');
      assert.deepEqual(col.mul(row).toArray(), [1, 2, 3, 10, 20, 30]);
      assert.deepEqual(row.div(tensor([[2], [-4]])).toArray(), [0.5, 1, 1.5, -0.25, -0.5, -0.75]);
    });
  });
  test('scalars: add, rsub, pow, remainder (sign of the divisor, as Python)', () => {
    scope(() => {
      const x = tensor([-3, -1, 2, 5]);
      assert.deepEqual(x.add(0.5).toArray(), [-2.5, -0.5, 2.5, 5.5]);
      assert.deepEqual(x.rsub(1).toArray(), [4, 2, -1, -4]);
      assert.deepEqual(x.pow(2).toArray(), [9, 1, 4, 25]);
      assert.deepEqual(
        tensor([2, 3])
          .pow(tensor([3, 2]))
          .toArray(),
        [8, 9],
      );
      assert.deepEqual(x.long().remainder(3).toArray(), [0, 2, 2, 2]);
      assert.deepEqual(x.remainder(-4).toArray(), [-3, -1, -2, -3]);
      assert.deepEqual(x.neg().toArray(), [3, 1, -2, -5]);
    });
  });
  test('type promotion: integer scalars keep integer dtypes, fractions promote to float', () => {
    scope(() => {
      const i = tensor([1, 2], { dtype: 'int64' });
      assert.equal(i.add(1).dtype, 'int64');
      assert.equal(i.mul(0.5).dtype, 'float32');
      assert.deepEqual(i.mul(0.5).toArray(), [0.5, 1]);
      assert.equal(i.add(tensor([0.5, 0.5], { dtype: 'float64' })).dtype, 'float64');
      assert.equal(tensor([1], { dtype: 'uint8' }).add(1).dtype, 'uint8');
      assert.equal(i.div(2).dtype, 'float32', 'true division');
    });
  });
  test('maximum, minimum', () => {
    scope(() => {
      const a = tensor([1, 5, -2]);
      const b = tensor([3, 4, -2]);
      assert.deepEqual(a.maximum(b).toArray(), [3, 5, -2]);
      assert.deepEqual(a.minimum(b).toArray(), [1, 4, -2]);
    });
  });
});

describe('comparisons, where, clamp', () => {
  test('comparisons give bool tensors and broadcast', () => {
    scope(() => {
      const x = tensor([1, 2, 3]);
      const y = tensor([3, 2, 1]);
      assert.deepEqual(x.eq(y).toArray(), [0, 1, 0]);
      assert.deepEqual(x.ne(y).toArray(), [1, 0, 1]);
      assert.deepEqual(x.lt(y).toArray(), [1, 0, 0]);
      assert.deepEqual(x.le(y).toArray(), [1, 1, 0]);
      assert.deepEqual(x.gt(2).toArray(), [0, 0, 1]);
      assert.deepEqual(x.ge(2).toArray(), [0, 1, 1]);
      assert.equal(x.gt(2).dtype, 'bool');
      assert.deepEqual(x.unsqueeze(1).lt(y).shape, [3, 3]);
      assert.deepEqual(x.gt(1).logicalAnd(x.lt(3)).toArray(), [0, 1, 0]);
      assert.deepEqual(x.gt(2).logicalOr(x.lt(2)).toArray(), [1, 0, 1]);
      assert.deepEqual(x.gt(2).logicalNot().toArray(), [1, 1, 0]);
    });
  });
  test('where with tensors, numbers and broadcasting', () => {
    scope(() => {
      const x = tensor([-2, 0.5, 3]);
      const pos = x.gt(0);
      assert.deepEqual(where(pos, x, x.neg()).toArray(), [2, 0.5, 3]);
      assert.deepEqual(where(pos, x, 0).toArray(), [0, 0.5, 3]);
      assert.deepEqual(where(pos, 1, -1).toArray(), [-1, 1, 1]);
      assert.deepEqual(where(pos, 7, x).toArray(), [-2, 7, 7]);
      assert.deepEqual(where(pos.unsqueeze(1), x, tensor([100])).shape, [3, 3]);
    });
  });
  test('clamp with both, one or the other bound', () => {
    scope(() => {
      const x = tensor([-2, -0.5, 0.5, 2]);
      assert.deepEqual(x.clamp(-1, 1).toArray(), [-1, -0.5, 0.5, 1]);
      assert.deepEqual(x.clamp(0).toArray(), [0, 0, 0.5, 2]);
      assert.deepEqual(x.clamp(undefined, 0).toArray(), [-2, -0.5, 0, 0]);
      x.clamp_(-0.5, 0.5);
      assert.deepEqual(x.toArray(), [-0.5, -0.5, 0.5, 0.5]);
    });
  });
});

describe('unary maths', () => {
  test('exp, log, sqrt, abs, sign against Math', () => {
    scope(() => {
      const data = [0.25, 1, 2, 7.5];
      const x = tensor(data, { dtype: 'float64' });
      assertClose(x.exp(), data.map(Math.exp), { rtol: 1e-15, atol: 0 }, 'exp');
      assertClose(x.log(), data.map(Math.log), { rtol: 1e-15, atol: 0 }, 'log');
      assertClose(x.sqrt(), data.map(Math.sqrt), { rtol: 1e-15, atol: 0 }, 'sqrt');
      const s = tensor([-3, 0, 2.5]);
      assert.deepEqual(s.abs().toArray(), [3, 0, 2.5]);
      assert.deepEqual(s.sign().toArray(), [-1, 0, 1]);
      assert.deepEqual(s.relu().toArray(), [0, 0, 2.5]);
      assert.deepEqual(tensor([-1, 4]).sqrt().isnan().toArray(), [1, 0]);
      assert.deepEqual(tensor([0, 1]).log().isfinite().toArray(), [0, 1]);
    });
  });
});
