import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scope, tensor } from '../../src/tensor/index.js';
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
