// Indexing: gather, scatter, index_select, index_add, one_hot and masks, with hand-computed results.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noGrad, oneHot, scope, type Tensor, tensor, zeros } from '../../src/tensor/index.js';

const idx = (data: number[] | number[][]): Tensor => tensor(data, { dtype: 'int64' });
/** [[10, 11, 12], [20, 21, 22]] */
const m = (): Tensor =>
  tensor([
    [10, 11, 12],
    [20, 21, 22],
  ]);

describe('indexing', () => {
  test('gather picks out[i][j] = x[i][index[i][j]] along dim 1, and along dim 0', () => {
    scope(() => {
      assert.deepEqual(
        m()
          .gather(
            1,
            idx([
              [2, 0],
              [1, 1],
            ]),
          )
          .toArray(),
        [12, 10, 21, 21],
      );
      assert.deepEqual(
        m()
          .gather(0, idx([[1, 0, 1]]))
          .toArray(),
        [20, 11, 22],
      );
    });
  });
  test('scatter writes a tensor or a number; scatterAdd accumulates', () => {
    scope(() => {
      const where = idx([[2], [0]]);
      assert.deepEqual(
        zeros([2, 3])
          .scatter(1, where, tensor([[5], [7]]))
          .toArray(),
        [0, 0, 5, 7, 0, 0],
      );
      assert.deepEqual(zeros([2, 3]).scatter(1, where, 1).toArray(), [0, 0, 1, 1, 0, 0]);
      const summed = zeros([4]).scatterAdd(0, idx([1, 3, 1, 1]), tensor([1, 2, 3, 4]));
      assert.deepEqual(summed.toArray(), [0, 8, 0, 2]);
    });
  });
  test('index_select takes whole rows or columns, repeats allowed', () => {
    scope(() => {
      assert.deepEqual(
        m()
          .indexSelect(0, idx([1, 1, 0]))
          .toArray(),
        [20, 21, 22, 20, 21, 22, 10, 11, 12],
      );
      assert.deepEqual(
        m()
          .indexSelect(1, idx([2, 0]))
          .toArray(),
        [12, 10, 22, 20],
      );
      assert.deepEqual(
        m()
          .indexSelect(0, tensor([1], { dtype: 'int32' }))
          .toArray(),
        [20, 21, 22],
        'int32 indices',
      );
    });
  });
  test('index_add (copy and in place) accumulates repeated indices with alpha', () => {
    scope(() => {
      const base = zeros([3, 2]);
      const rows = tensor([
        [1, 2],
        [10, 20],
        [100, 200],
      ]);
      const added = base.indexAdd(0, idx([2, 0, 2]), rows, 2);
      assert.deepEqual(added.toArray(), [20, 40, 0, 0, 202, 404]);
      assert.deepEqual(base.toArray(), [0, 0, 0, 0, 0, 0], 'indexAdd leaves the input alone');
      noGrad(() => base.indexAdd_(0, idx([1, 1, 1]), rows));
      assert.deepEqual(base.toArray(), [0, 0, 111, 222, 0, 0]);
    });
  });
  test('one_hot with inferred and explicit class counts', () => {
    scope(() => {
      const h = oneHot(idx([2, 0, 1]));
      assert.deepEqual(h.shape, [3, 3]);
      assert.equal(h.dtype, 'int64');
      assert.deepEqual(h.toArray(), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
      assert.deepEqual(oneHot(idx([1]), 4).toArray(), [0, 1, 0, 0]);
    });
  });
  test('maskedFill, maskedSelect and nonzero', () => {
    scope(() => {
      const x = tensor([3, -1, 4, -1, 5]);
      const negative = x.lt(0);
      assert.deepEqual(x.maskedFill(negative, 0).toArray(), [3, 0, 4, 0, 5]);
      assert.deepEqual(x.maskedSelect(x.gt(3)).toArray(), [4, 5]);
      assert.deepEqual(negative.nonzero().toArray(), [1, 3]);
    });
  });
});
