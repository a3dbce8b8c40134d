import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planEpoch, stepLr } from '../../src/train/schedule.js';

test('step schedule: lr * gamma^floor(epoch / epochsPerStep)', () => {
  const o = { lr: 0.01, gamma: 0.1, epochsPerStep: 15 };
  assert.equal(stepLr(0, o), 0.01);
  assert.equal(stepLr(14, o), 0.01);
  assert.ok(Math.abs(stepLr(15, o) - 0.001) < 1e-15);
  assert.ok(Math.abs(stepLr(29, o) - 0.001) < 1e-15);
  assert.ok(Math.abs(stepLr(30, o) - 0.0001) < 1e-15);
  assert.throws(() => stepLr(1, { ...o, epochsPerStep: 0 }), /epochsPerStep must be an integer >= 1/);
  assert.throws(() => stepLr(-1, o), /epoch must be an integer >= 0/);
});

test('recipe plan: warm-up epochs at lr * lrMult, then the step schedule counted after them', () => {
  const o = { lr: 0.01, gamma: 0.1, epochsPerStep: 2, warmupEpochs: 1, lrMult: 5 };
  assert.deepEqual(planEpoch(0, o), { phase: 'warmup', epochInPhase: 0, lr: 0.05 });
  assert.deepEqual(planEpoch(1, o), { phase: 'main', epochInPhase: 0, lr: 0.01 });
  assert.deepEqual(planEpoch(2, o), { phase: 'main', epochInPhase: 1, lr: 0.01 });
  const third = planEpoch(3, o);
  assert.equal(third.phase, 'main');
  assert.ok(Math.abs(third.lr - 0.001) < 1e-15);
  assert.deepEqual(planEpoch(0, { ...o, warmupEpochs: 0 }), { phase: 'main', epochInPhase: 0, lr: 0.01 });
});
