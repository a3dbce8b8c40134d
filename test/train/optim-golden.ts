// Replays a tools/golden/loss_optim.py fixture: the same parameter groups, gradients and lr changes,
// and compares parameters after every step and the final optimiser state with torch.optim's.
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/tensor/index.js';
import type { Optimizer, ParamGroup } from '../../src/train/optim/optimizer.js';
import { loadGoldenJson, maxAbsDiff } from '../helpers/golden.js';

interface Extra {
  base_lr: number;
  lr_mult: number;
  group_weight_decay: [number, number];
  steps: { grads: string[]; lr: number | null }[];
  step_counts: Record<string, number>;
}

export function replayGolden(
  name: string,
  make: (groups: ParamGroup[], lr: number) => Optimizer,
  tol = 1e-6,
): Optimizer {
  const { tensors: t, extra } = loadGoldenJson(`loss-optim-${name}.json`);
  const e = extra as unknown as Extra;
  const get = (k: string): Tensor => {
    const v = t[k];
    assert.ok(v, `fixture lacks ${k}`);
    return v;
  };
  const params: Record<string, Tensor> = {
    a: get('init.a').clone().requiresGrad_(true),
    b: get('init.b').clone().requiresGrad_(true),
    c: get('init.c').clone().requiresGrad_(true),
  };
  const opt = make(
    [
      { params: [params.a as Tensor, params.b as Tensor], weightDecay: e.group_weight_decay[0] },
      { params: [params.c as Tensor], lrMult: e.lr_mult, weightDecay: e.group_weight_decay[1] },
    ],
    e.base_lr,
  );
  e.steps.forEach((step, i) => {
    if (step.lr !== null) opt.setLr(step.lr);
    opt.zeroGrad();
    for (const k of step.grads) (params[k] as Tensor).grad = get(`grad.${i + 1}.${k}`);
    opt.step();
    for (const [k, p] of Object.entries(params)) {
      const diff = maxAbsDiff(p.detach(), get(`after.${i + 1}.${k}`));
      assert.ok(diff < tol, `${name}: parameter ${k} after step ${i + 1} differs from torch by ${diff}`);
    }
  });
  const sd = opt.stateDict();
  const goldenState = Object.keys(t).filter((k) => k.startsWith('state.'));
  assert.deepEqual(Object.keys(sd.tensors).sort(), goldenState.sort());
  for (const k of goldenState) {
    const diff = maxAbsDiff(sd.tensors[k] as Tensor, get(k));
    assert.ok(diff < tol, `${name}: ${k} differs from torch by ${diff}`);
  }
  for (const [index, count] of Object.entries(e.step_counts)) assert.equal(sd.meta.counters[index]?.['step'], count);
  return opt;
}
