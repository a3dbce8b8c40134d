import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noGrad, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { AdamW } from '../../src/train/optim/adamw.js';
import { maxAbsDiff } from '../helpers/golden.js';
import { replayGolden } from './optim-golden.js';

test('AdamW matches torch.optim.AdamW: groups, per-parameter step counts, lr change', () => {
  scope(() => {
    replayGolden('adamw', (groups, lr) => new AdamW(groups, { lr }), 2e-6);
  });
});

test('AdamW hand-computed first step moves each coordinate by lr (bias-corrected), after decay', () => {
  scope(() => {
    const p = tensor([1, -1]).requiresGrad_(true);
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.5, eps: 0 });
    p.grad = tensor([3, -0.01]);
    opt.step();
    // p * (1 - 0.05) - 0.1 * sign(g)
    assert.ok(maxAbsDiff(p.detach(), tensor([0.95 - 0.1, -0.95 + 0.1])) < 1e-6);
  });
});

test('AdamW state dict (moments and step counts) round trip continues identically', () => {
  scope(() => {
    const a = tensor([0.3, -0.7, 1.1]).requiresGrad_(true);
    const b = a.detach().clone().requiresGrad_(true);
    const optA = new AdamW([a], { lr: 0.05 });
    const grads = [tensor([1, -2, 0.5]), tensor([0.1, 0.3, -1]), tensor([-0.4, 0.2, 0.9])];
    a.grad = grads[0] as Tensor;
    optA.step();
    const saved = optA.stateDict();
    assert.deepEqual(saved.meta.counters, { 0: { step: 1 } });
    noGrad(() => b.copy_(a));
    const optB = new AdamW([b], { lr: 0.05 });
    optB.loadStateDict({ meta: JSON.parse(JSON.stringify(saved.meta)), tensors: saved.tensors });
    for (const g of grads.slice(1)) {
      a.grad = g;
      b.grad = g;
      optA.step();
      optB.step();
    }
    assert.equal(maxAbsDiff(a.detach(), b.detach()), 0);
    assert.deepEqual(optB.stateDict().meta.counters, { 0: { step: 3 } });
  });
});
