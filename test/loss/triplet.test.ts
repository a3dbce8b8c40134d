import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TripletSemiHardLoss } from '../../src/loss/triplet.js';
import { scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { loadGoldenJson, maxAbsDiff } from '../helpers/golden.js';

test('triplet semi-hard loss and gradient equal the PyTorch port of TF-addons', () => {
  scope(() => {
    const { tensors, extra } = loadGoldenJson('loss-triplet.json');
    for (const name of ['a', 'a_m1', 'b']) {
      const t = (k: string) => tensors[`${name}.${k}`] as Tensor;
      const margin = (extra[name] as { margin: number }).margin;
      const x = t('x').clone().requiresGrad_(true);
      const value = new TripletSemiHardLoss({ margin }).forward(x, t('y'));
      assert.ok(Math.abs(value.item() - t('loss').item()) < 1e-5, `${name}: ${value.item()} vs ${t('loss').item()}`);
      value.backward();
      assert.ok(maxAbsDiff(x.grad as Tensor, t('grad_x')) < 1e-5, `${name}: gradient`);
    }
  });
});

test('triplet semi-hard loss on a hand-computed 1-d batch', () => {
  scope(() => {
    // Points 0, 0.5 (class 0) and 1, 3 (class 1). Per (anchor, positive):
    //   (0, 0.5): negatives at 1 and 3, the nearest beyond 0.5 is 1      -> m + 0.5 - 1
    //   (0.5, 0): negatives at 0.5 and 2.5 from it, beyond 0.5 only 2.5  -> m + 0.5 - 2.5
    //   (1, 3):   negatives at 1 and 0.5, none beyond 2: farthest, 1     -> m + 2 - 1
    //   (3, 1):   negatives at 3 and 2.5, the nearest beyond 2 is 2.5    -> m + 2 - 2.5
    const x = tensor([[0], [0.5], [1], [3]]);
    const y = tensor([0, 0, 1, 1], { dtype: 'int64' });
    const at = (m: number) => new TripletSemiHardLoss({ margin: m }).forward(x, y).item();
    assert.ok(Math.abs(at(1) - (0.5 + 0 + 2 + 0.5) / 4) < 1e-6);
    assert.ok(Math.abs(at(0.2) - (0 + 0 + 1.2 + 0) / 4) < 1e-6);
  });
});

test('triplet loss has no parameters and checks its inputs', () => {
  scope(() => {
    const loss = new TripletSemiHardLoss();
    assert.deepEqual(loss.parameters(), []);
    assert.deepEqual(loss.namedParameters(), {});
    assert.equal(loss.margin, 1);
    assert.throws(
      () => loss.forward(tensor([1, 2]), tensor([0, 1], { dtype: 'int64' })),
      /embeddings must be \[B, d\]/,
    );
  });
});

test('a batch without a valid triplet (no positive pair, or one class only): zero loss, zero finite gradient', () => {
  scope(() => {
    const loss = new TripletSemiHardLoss({ margin: 0.2 });
    const cases: [string, number[]][] = [
      ['four classes, one image each', [3, 1, 0, 2]],
      ['one class only (no negative)', [5, 5, 5, 5]],
    ];
    for (const [what, labels] of cases) {
      const x = tensor([
        [0.6, 0.8],
        [1, 0],
        [0, -1],
        [-0.8, 0.6],
      ]).requiresGrad_(true);
      const value = loss.forward(x, tensor(labels, { dtype: 'int64' }));
      assert.equal(value.item(), 0, what);
      assert.equal(loss.lastForwardEmpty, true, what);
      value.backward();
      assert.deepEqual((x.grad as Tensor).toArray(), [0, 0, 0, 0, 0, 0, 0, 0], what);
    }
    // One positive pair is enough: the loss is the pair's, and the flag is off again.
    const x = tensor([[0], [0.5], [1], [3]]);
    const value = loss.forward(x, tensor([0, 0, 1, 2], { dtype: 'int64' })).item();
    assert.equal(loss.lastForwardEmpty, false);
    // (0, 0.5): nearest negative beyond 0.5 is 1 -> 0; (0.5, 0): beyond 0.5 is 2.5 -> 0; mean over 2 pairs.
    assert.equal(value, 0);
    assert.ok(
      Math.abs(
        new TripletSemiHardLoss({ margin: 1 }).forward(x, tensor([0, 0, 1, 2], { dtype: 'int64' })).item() - 0.25,
      ) < 1e-6,
    );
  });
});
