// Triplet semi-hard loss against an independent implementation: pytorch-metric-learning's
// TripletMarginMiner / TripletMarginLoss (fixture from tools/golden/pml_losses.py, whose docstring says
// where PML's semi-hard mining differs from ours, TF-addons', and how each case is built on PML).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TripletSemiHardLoss } from '../../src/loss/triplet.js';
import { scope, type Tensor } from '../../src/tensor/index.js';
import { loadGoldenJson, maxAbsDiff } from '../helpers/golden.js';

const { tensors, extra } = loadGoldenJson('loss-pml-triplet.json');

function check(name: string): void {
  scope(() => {
    const t = (k: string) => tensors[`${name}.${k}`] as Tensor;
    const margin = (extra[name] as { margin: number }).margin;
    const x = t('x').clone().requiresGrad_(true);
    const value = new TripletSemiHardLoss({ margin }).forward(x, t('y'));
    const want = t('loss').item();
    assert.ok(Math.abs(value.item() - want) < 1e-5, `${name}: loss ${value.item()}, PML ${want}`);
    value.backward();
    const d = maxAbsDiff(x.grad as Tensor, t('grad_x'));
    assert.ok(d < 1e-5, `${name}: gradient max abs difference ${d}`);
  });
}

test("where the two definitions coincide (one semi-hard negative per pair at most): PML's miner and loss alone", () => {
  const info = extra.agree as { positive_pairs: number; semihard_triplets: number; pml_default_loss: number };
  check('agree');
  // PML's own reduction averages over its non-zero triplets instead of over all positive pairs.
  const ours = (tensors['agree.loss'] as Tensor).item();
  assert.ok(Math.abs(ours * info.positive_pairs - info.pml_default_loss * info.semihard_triplets) < 1e-5);
});

test('TF-addons rule over PML semi-hard / easy / hard triplets: unit-norm batch (m 0.2) and raw batch (m 0.5)', () => {
  for (const name of ['unit', 'raw']) {
    const info = extra[name] as { semihard: number; easy: number; fallback: number };
    assert.ok(info.semihard > 0 && info.easy > 0 && info.fallback > 0, `${name} covers all three kinds of pairs`);
    check(name);
  }
});

test('a batch without a positive pair: zero loss and gradient, as PML', () => {
  check('none');
});
