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
