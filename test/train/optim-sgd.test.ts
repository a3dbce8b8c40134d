import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { SGD } from '../../src/train/optim/sgd.js';
import { maxAbsDiff } from '../helpers/golden.js';
import { replayGolden } from './optim-golden.js';

test('SGD matches torch.optim.SGD: groups with lr multiplier and weight decay, skipped param, lr change', () => {
  scope(() => {
    replayGolden('sgd', (groups, lr) => new SGD(groups, { lr, momentum: 0.9 }));
  });
});

test('SGD with nesterov momentum matches torch', () => {
  scope(() => {
    replayGolden('sgd-nesterov', (groups, lr) => new SGD(groups, { lr, momentum: 0.8, nesterov: true }));
  });
});

test('SGD with dampening matches torch', () => {
  scope(() => {
    replayGolden('sgd-dampening', (groups, lr) => new SGD(groups, { lr, momentum: 0.9, dampening: 0.3 }));
  });
});

test('SGD hand-computed: two steps of momentum and weight decay', () => {
  scope(() => {
    const p = tensor([1, -2]).requiresGrad_(true);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.5, weightDecay: 0.1 });
    p.grad = tensor([1, 1]);
    opt.step();
    // g = [1.1, 0.8]; buf = g; p = [1 - 0.11, -2 - 0.08]
    assert.ok(maxAbsDiff(p.detach(), tensor([0.89, -2.08])) < 1e-6);
    p.grad = tensor([0, 2]);
    opt.step();
    // g = [0.089, 1.792]; buf = 0.5 * [1.1, 0.8] + g = [0.639, 2.192]; p -= 0.1 * buf
    assert.ok(maxAbsDiff(p.detach(), tensor([0.89 - 0.0639, -2.08 - 0.2192])) < 1e-6);
  });
});

test('SGD state dict round trip: a restored optimiser continues identically', () => {
  scope(() => {
    const make = () => [
      tensor([
        [1, 2],
        [3, 4],
      ]).requiresGrad_(true),
      tensor([0.5]).requiresGrad_(true),
    ];
    const grads = [
      tensor([
        [0.1, -0.2],
        [0.3, 0.4],
      ]),
      tensor([1]),
    ];
    const a = make();
    const optA = new SGD([{ params: a }], { lr: 0.1, weightDecay: 1e-2 });
    const stepWith = (ps: Tensor[], opt: SGD) => {
      ps.forEach((p, i) => {
        p.grad = grads[i] as Tensor;
      });
      opt.step();
    };
    stepWith(a, optA);
    const saved = optA.stateDict();
    assert.deepEqual(Object.keys(saved.tensors).sort(), ['state.0.momentum_buffer', 'state.1.momentum_buffer']);
    const json = JSON.parse(JSON.stringify(saved.meta));
    const b = a.map((p) => p.detach().clone().requiresGrad_(true));
    const optB = new SGD([{ params: b }], { lr: 0.5 });
    optB.loadStateDict({ meta: json, tensors: saved.tensors });
    assert.equal(optB.lr, 0.1);
    stepWith(a, optA);
    stepWith(b, optB);
    a.forEach((p, i) => {
      assert.equal(maxAbsDiff(p.detach(), (b[i] as Tensor).detach()), 0);
    });
  });
});

test('SGD rejects bad state dicts and options with clear messages', () => {
  scope(() => {
    const p = tensor([1, 2]).requiresGrad_(true);
    const opt = new SGD([p], { lr: 0.1 });
    const meta = { kind: 'sgd', lr: 0.1, groups: [{ lrMult: 1, weightDecay: 0, params: [0] }], counters: {} };
    assert.throws(
      () => opt.loadStateDict({ meta, tensors: { 'state.0.momentum_buffer': tensor([1, 2, 3]) } }),
      /"state.0.momentum_buffer" has shape \[3\], parameter has \[2\]/,
    );
    assert.throws(() => opt.loadStateDict({ meta: { ...meta, kind: 'adamw' }, tensors: {} }), /saved by adamw/);
    assert.throws(() => new SGD([p], { lr: -1 }), /lr must be >= 0/);
    assert.throws(() => new SGD([p, p], { lr: 1 }), /more than once/);
  });
});
