// Autograd: requiresGrad, backward, accumulation, zeroGrad, detach, noGrad and optimiser updates.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { enableGrad, isGradEnabled, noGrad, scope, type Tensor, tensor } from '../../src/tensor/index.js';

// A call, so that TypeScript does not narrow .grad to null for the rest of the test.
const gradOf = (t: Tensor): number[] | null => t.grad?.toArray() ?? null;

describe('autograd', () => {
  test('requiresGrad marks leaves and flows into results', () => {
    scope(() => {
      const x = tensor([1, 2, 3]);
      assert.equal(x.requiresGrad, false);
      assert.equal(x.mul(2).requiresGrad, false);
      x.requiresGrad = true;
      const y = x.mul(2);
      assert.equal(y.requiresGrad, true);
      assert.equal(x.isLeaf, true);
      assert.equal(y.isLeaf, false);
      assert.equal(tensor([1], { requiresGrad: true }).requiresGrad, true);
    });
  });
  test('backward fills .grad: d/dx sum(x^2 * w) = 2 x w', () => {
    scope(() => {
      const x = tensor([1, -2, 3], { requiresGrad: true });
      const w = tensor([0.5, 1, 2]);
      assert.equal(gradOf(x), null);
      x.square().mul(w).sum().backward();
      assert.deepEqual(gradOf(x), [1, -4, 12]);
      assert.equal(gradOf(w), null, 'no gradient for tensors that do not require it');
    });
  });
  test('backward of a non-scalar takes an explicit upstream gradient', () => {
    scope(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      x.mul(3).backward(tensor([10, 100]));
      assert.deepEqual(gradOf(x), [30, 300]);
    });
  });
  test('gradients accumulate over two backwards until zeroGrad', () => {
    scope(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      x.mul(x).sum().backward();
      x.mul(5).sum().backward();
      assert.deepEqual(gradOf(x), [2 + 5, 4 + 5]);
      x.zeroGrad();
      assert.equal(gradOf(x), null);
      x.mul(5).sum().backward();
      assert.deepEqual(gradOf(x), [5, 5]);
    });
  });
  test('a graph is freed after backward unless retainGraph is set', () => {
    scope(() => {
      const x = tensor([2], { requiresGrad: true });
      const y = x.exp().sum();
      y.backward(undefined, { retainGraph: true });
      y.backward();
      assert.ok(Math.abs(x.grad!.item() - 2 * Math.exp(2)) < 1e-4);
      assert.throws(() => y.backward(), /backward through the graph a second time/);
    });
  });
  test('the grad setter replaces the accumulated gradient', () => {
    scope(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      x.grad = tensor([7, 8]);
      x.sum().backward();
      assert.deepEqual(gradOf(x), [8, 9]);
    });
  });
  test('detach cuts the graph and shares the data', () => {
    scope(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      const d = x.detach();
      assert.equal(d.requiresGrad, false);
      x.mul(d).sum().backward();
      assert.deepEqual(gradOf(x), [1, 2], 'd is a constant: d/dx (x * d) = d');
      noGrad(() => x.add_(10));
      assert.deepEqual(d.toArray(), [11, 12], 'the detached tensor sees updates to the original');
    });
  });
  test('noGrad records no graph and restores the mode, even after a throw', () => {
    scope(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      assert.equal(isGradEnabled(), true);
      const y = noGrad(() => {
        assert.equal(isGradEnabled(), false);
        assert.equal(
          enableGrad(() => x.mul(2).requiresGrad),
          true,
        );
        return x.mul(2);
      });
      assert.equal(y.requiresGrad, false);
      assert.throws(() => y.sum().backward(), /does not require grad/);
      assert.throws(() =>
        noGrad(() => {
          throw new Error('boom');
        }),
      );
      assert.equal(isGradEnabled(), true);
    });
  });
  test('an in-place SGD step under noGrad keeps the parameter a leaf that trains', () => {
    scope(() => {
      // minimise (w - 3)^2 from w = 0 with lr 0.25: w <- w - 0.25 * 2 (w - 3), so w_k = 3 - 3 / 2^k
      const w = tensor([0], { requiresGrad: true, dtype: 'float64' });
      for (let k = 1; k <= 4; k++) {
        scope(() => {
          w.sub(3).square().sum().backward();
          noGrad(() => w.sub_(w.grad!, 0.25));
          w.zeroGrad();
        });
        assert.equal(w.item(), 3 - 3 / 2 ** k);
        assert.equal(w.isLeaf, true);
        assert.equal(w.requiresGrad, true);
      }
    });
  });
});
