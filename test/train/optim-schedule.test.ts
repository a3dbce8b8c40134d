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

test('the cosine main phase with a linear ramp, by hand: lr (e + 1) / (n + 1), then lr / 2 (1 + cos(pi t / T))', () => {
  const o = { lr: 0.1, gamma: 0.1, epochsPerStep: 5, numSteps: 2, warmupEpochs: 1, lrMult: 10 };
  const cosine = { ...o, schedule: 'cosine' as const, lrWarmupEpochs: 2 };
  const lrs = Array.from({ length: 11 }, (_, e) => planEpoch(e, cosine).lr);
  assert.equal(lrs[0], 1, 'phase A: the new parameters at lr * lrMult');
  const close = (got: number | undefined, want: number, what: string) =>
    assert.ok(Math.abs((got as number) - want) < 1e-15, `${what}: ${got} vs ${want}`);
  close(lrs[1], 0.1 / 3, 'ramp 1 of 2');
  close(lrs[2], 0.2 / 3, 'ramp 2 of 2');
  close(lrs[3], 0.1, 'the cosine starts at lr');
  close(lrs[7], 0.05, 'half way (4 of 8 cosine epochs)');
  close(lrs[10], 0.05 * (1 + Math.cos((Math.PI * 7) / 8)), 'the last epoch');
  for (let e = 3; e < 10; e++) assert.ok((lrs[e + 1] as number) < (lrs[e] as number), 'decreasing');
  // The step schedule keeps its steps after the ramp.
  const step = { ...o, lrWarmupEpochs: 1 };
  close(planEpoch(1, step).lr, 0.05, 'ramp 1 of 1');
  close(planEpoch(2, step).lr, 0.1, 'step, first');
  close(planEpoch(6, step).lr, 0.01, 'step, after epochsPerStep');
  assert.throws(() => planEpoch(11, { ...cosine, lrWarmupEpochs: 10 }), /10 ramp epochs leave none of 10/);
});
