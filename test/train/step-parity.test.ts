// End-to-end training-step parity with PyTorch (issue 3 point 9): the embedder (BatchNorm in train mode)
// + NormSoftmax (T = 0.05) + SGD (momentum 0.9, weight decay 1e-4, backbone group at lr, new
// parameters at lr * lr_mult) after one and after three steps on a fixed batch gives PyTorch's
// parameters, BatchNorm running statistics and class weights W (tools/golden/train_step.py).
//
// Tolerances. Both sides run libtorch's float32 kernels, but a convolution or BatchNorm backward may
// sum in another order (kernel choice, threads), so a gradient differs by a few ulps times the square
// root of the reduction length, ~1e-6 of its scale; BatchNorm over 8 samples (ResNet-18's 1x1 layer4
// maps at 32x32) amplifies that from step to step. Measured (Debian torch 1.13, 2 threads): weights
// within 9e-7 of each tensor's largest magnitude after three steps, updates within 8e-5 of the
// largest update, losses within 1e-6. We allow WEIGHT_TOL = 1e-5 of max|w| per tensor. A weight bound
// alone would miss an update error as small as the weight decay term (lr * 1e-4 * w), so the updates
// (after - before) are also compared, to UPDATE_TOL = 5e-4 of each tensor's largest update: dropping
// the weight decay then fails (it shifts some BatchNorm updates by 1e-3), and every tensor must have
// moved by more than 10 x WEIGHT_TOL so that these comparisons mean something.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import { type Arch, createEmbedder, type Embedder } from '../../src/nn/index.js';
import { Generator, keep, noGrad, randn, scope, type Tensor } from '../../src/tensor/index.js';
import { SGD } from '../../src/train/optim/sgd.js';
import { GOLDEN_DIR } from '../helpers/golden.js';
import { referenceSkip, runReference } from '../helpers/reference-python.js';
import { CACHE_DIR } from '../nn/fixtures.js';

// Mirrors tools/golden/train_step.py.
const SETTING = { temperature: 0.05, momentum: 0.9, weightDecay: 1e-4, lr: 0.01, lrMult: 5, numClasses: 10 };
const WEIGHT_TOL = 1e-5;
const UPDATE_TOL = 5e-4;
const LOSS_TOL = 1e-5;
const RESNET18_CACHE = join(CACHE_DIR, 'train-step-resnet18-v2.safetensors');

interface Case {
  arch: Arch;
  dim: number;
  seed: number;
  golden: Record<string, Tensor>;
}

/** (offset, scale) of a tensor's initial value offset + scale * randn(shape), as initial_rule() in train_step.py. */
function initialRule(key: string, shape: readonly number[]): [number, number] {
  if (key.endsWith('running_var')) return [1, 0.1];
  if (key.endsWith('running_mean') || key.endsWith('.bias')) return [0, 0.1];
  if (shape.length === 1) return [1, 0.2];
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  return [0, Math.sqrt(2 / fanIn)];
}

/** Every tensor the step changes, by the fixture's names: the embedder's state dict and W as loss.weight. */
function stateOf(model: Embedder, loss: NormSoftmaxLoss): [string, Tensor][] {
  return [...Object.entries(model.stateDict()), ['loss.weight', loss.weight.detach()]];
}

/** Draws the initial weights as PyTorch did, checking each against PyTorch's float64 sum. */
function initialise(state: [string, Tensor][], c: Case): void {
  const generator = new Generator(c.seed);
  noGrad(() => {
    for (const [key, t] of state) {
      if (t.dtype !== 'float32') {
        t.zero_();
        continue;
      }
      const [offset, scale] = initialRule(key, t.shape);
      t.copy_(randn(t.shape, { generator }).mul(scale).add(offset));
      const ours = t.to('float64').sum().item();
      const theirs = (c.golden[`init_sum.${key}`] as Tensor).item();
      assert.ok(Math.abs(ours - theirs) <= 1e-6 * t.numel, `initial ${key}: sum ${ours} vs PyTorch ${theirs}`);
    }
  });
}

function largest(t: Tensor): number {
  return t.abs().max().to('float64').item();
}

/** Compares the state after `step` steps with PyTorch's (STEP_PARITY_REPORT=1 prints the margins). */
function compare(step: number, state: [string, Tensor][], initial: Map<string, Tensor>, c: Case): void {
  for (const [key, ours] of state) {
    const theirs = c.golden[`after${step}.${key}`];
    assert.ok(theirs, `fixture has no after${step}.${key}`);
    if (ours.dtype === 'int64') {
      assert.equal(ours.item(), theirs.item(), `${key} after ${step} step(s)`);
      continue;
    }
    const weightScale = Math.max(largest(theirs), 1e-3);
    const weightError = largest(ours.sub(theirs)) / weightScale;
    assert.ok(weightError < WEIGHT_TOL, `${key} after ${step} step(s): max|ours - torch| = ${weightError} of max|w|`);
    const before = initial.get(key) as Tensor;
    const theirUpdate = theirs.sub(before);
    const updateScale = largest(theirUpdate);
    const updateError = largest(ours.sub(before).sub(theirUpdate)) / updateScale;
    if (process.env.STEP_PARITY_REPORT === '1') {
      console.log(
        `# ${c.arch} step ${step} ${key}: weight ${weightError}, update ${updateError}, moved ${updateScale / weightScale}`,
      );
    }
    assert.ok(updateError < UPDATE_TOL, `${key} after ${step} step(s): update differs by ${updateError} of its scale`);
    assert.ok(updateScale > 10 * WEIGHT_TOL * weightScale, `${key} barely moved (${updateScale}): a weak comparison`);
  }
}

function runCase(c: Case): void {
  const model = createEmbedder({ arch: c.arch, dim: c.dim });
  const loss = new NormSoftmaxLoss({ numClasses: SETTING.numClasses, dim: c.dim, temperature: SETTING.temperature });
  const { lr, lrMult, momentum, weightDecay } = SETTING;
  const opt = new SGD(
    [
      { params: model.backboneParameters(), lrMult: 1 },
      { params: [...model.newParameters(), ...loss.parameters()], lrMult },
    ],
    { lr, momentum, weightDecay },
  );
  try {
    scope(() => {
      const state = stateOf(model, loss);
      initialise(state, c);
      const initial = new Map(state.map(([k, t]) => [k, keep(t.clone())]));
      const x = c.golden['input'] as Tensor;
      const y = c.golden['labels'] as Tensor;
      const expectedLosses = (c.golden['loss'] as Tensor).toArray();
      model.train();
      for (let step = 1; step <= 3; step++) {
        const value = scope(() => {
          const l = loss.forward(model.forward(x), y);
          l.backward();
          opt.step();
          opt.zeroGrad();
          return l.item();
        });
        const expected = expectedLosses[step - 1] as number;
        if (process.env.STEP_PARITY_REPORT === '1') console.log(`# ${c.arch} loss ${step}: ${value} vs ${expected}`);
        assert.ok(
          Math.abs(value - expected) < LOSS_TOL * Math.max(1, expected),
          `loss ${step}: ${value} vs ${expected}`,
        );
        if (step === 1 || step === 3) compare(step, state, initial, c);
      }
    });
  } finally {
    opt.dispose();
    model.dispose();
    loss.weight.dispose();
  }
}

describe('training step parity with PyTorch: embedder + NormSoftmax + SGD with two parameter groups', () => {
  test('small CNN (28x28, 128 -> 64 remap): 1 and 3 steps', () => {
    const golden = loadSafetensors(join(GOLDEN_DIR, 'train-step-smallcnn.safetensors')).tensors;
    runCase({ arch: 'smallcnn', dim: 64, seed: 2019, golden });
  });

  const skip = ensureResnet18Cache();
  if (skip) console.log(`# SKIP ResNet-18 step parity: ${skip}`);
  test('torchvision ResNet-18 at 32x32 (512 -> 128 remap): 1 and 3 steps', { skip: skip ?? false }, () => {
    runCase({ arch: 'resnet18', dim: 128, seed: 1811, golden: loadSafetensors(RESNET18_CACHE).tensors });
  });
});

/** Makes the ResNet-18 fixture (too large to commit) when missing; returns why it cannot, or null. */
function ensureResnet18Cache(): string | null {
  if (existsSync(RESNET18_CACHE)) return null;
  const skip = referenceSkip(
    ['torch', 'torchvision'],
    'tools/golden/train_step.py --resnet18-cache cannot make the ResNet-18 step-parity fixture',
  );
  if (skip) return skip;
  runReference([join(import.meta.dirname, '..', '..', 'tools', 'golden', 'train_step.py'), '--resnet18-cache']);
  return null;
}
