// The recipe's warm-up phase through the real trainer (runTraining), replayed in PyTorch by
// tools/golden/warmup_step.py (issue 8 point 15): during the warm-up the backbone's weights stay
// bitwise unchanged while its BatchNorm running statistics move (train mode, as in the reference), and
// only the new parameters (remap.weight, when dim != width) and the class weights W train, at
// lr * lrMult with one optimiser kept across the warm-up epochs; the main phase then starts a fresh
// optimiser (momentum buffers restart) over all parameters, with the step schedule. Compared after the
// warm-up, after the first main-phase step and (small CNN with a remap) after the last step.
//
// Every step has its own batch (a source that serves the fixture's batch `epoch * BATCHES + batch`),
// and a wrapper around the model's forward snapshots the state when the k-th forward starts, that is
// after k - 1 steps, whatever the trainer's prefetching. Tolerances as in step-parity.test.ts (the reasoning is
// there): weights within WEIGHT_TOL of each tensor's largest magnitude, and the change since the
// previous snapshot within UPDATE_TOL of PyTorch's change. A trainer that carried the warm-up's momentum
// into the main phase, trained the backbone in the warm-up, froze BatchNorm statistics, forgot lrMult
// or the schedule fails one of them.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ClassBalancedSampler } from '../../src/data/samplers/class-balanced.js';
import type { BatchSource } from '../../src/data/sources/types.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import { type Arch, createEmbedder, type Embedder } from '../../src/nn/index.js';
import { Generator, keep, noGrad, randn, scope, type Tensor } from '../../src/tensor/index.js';
import { resolveConfig } from '../../src/train/config.js';
import { readMetrics } from '../../src/train/metrics.js';
import { runTraining, type TrainableLoss } from '../../src/train/trainer.js';
import { GOLDEN_DIR } from '../helpers/golden.js';
import { referenceSkip, runReference } from '../helpers/reference-python.js';
import { CACHE_DIR } from '../nn/fixtures.js';

// Mirrors tools/golden/warmup_step.py.
const S = {
  temperature: 0.05,
  momentum: 0.9,
  weightDecay: 1e-4,
  lr: 0.01,
  lrMult: 5,
  gamma: 0.1,
  numClasses: 10,
  batchSize: 8,
  imagesPerClass: 2,
  warmupEpochs: 2,
  epochsPerStep: 1,
  numSteps: 2,
  batches: 2,
};
const WARMUP_STEPS = S.warmupEpochs * S.batches;
const WEIGHT_TOL = 1e-5;
const UPDATE_TOL = 5e-4;
const LOSS_TOL = 1e-5;
const RESNET18_CACHE = join(CACHE_DIR, 'warmup-resnet18.safetensors');

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Case {
  arch: Arch;
  dim: number;
  seed: number;
  golden: Record<string, Tensor>;
  /** Key prefix in the fixture ("" or "noremap."); input and labels are shared. */
  prefix: string;
  /** Main-phase lr steps (epochs = epochsPerStep * numSteps), as the fixture was made. */
  numSteps: number;
  /** Whether the fixture has the state after the last step ("final"). */
  hasFinal: boolean;
}

/** (offset, scale) of a tensor's initial value offset + scale * randn(shape), as initial_rule() in train_step.py. */
function initialRule(key: string, shape: readonly number[]): [number, number] {
  if (key.endsWith('running_var')) return [1, 0.1];
  if (key.endsWith('running_mean') || key.endsWith('.bias')) return [0, 0.1];
  if (shape.length === 1) return [1, 0.2];
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  return [0, Math.sqrt(2 / fanIn)];
}

function stateOf(model: Embedder, loss: NormSoftmaxLoss): [string, Tensor][] {
  return [...Object.entries(model.stateDict()), ['loss.weight', loss.weight.detach()]];
}

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
      const theirs = (c.golden[`${c.prefix}init_sum.${key}`] as Tensor).item();
      assert.ok(Math.abs(ours - theirs) <= 1e-6 * t.numel, `initial ${key}: sum ${ours} vs PyTorch ${theirs}`);
    }
  });
}

const largest = (t: Tensor) => t.abs().max().to('float64').item();

function snapshotOf(state: [string, Tensor][]): Map<string, Tensor> {
  return new Map(state.map(([k, t]) => [k, keep(t.clone())]));
}

/**
 * Compares our state `ours` at fixture snapshot `name` with PyTorch's, and the change since `before`
 * (our previous snapshot) with PyTorch's change since its own. Keys missing from the fixture (the
 * backbone's parameters after the warm-up) are left to the caller.
 */
function compare(
  name: string,
  ours: Map<string, Tensor>,
  before: Map<string, Tensor>,
  beforeName: string | null,
  c: Case,
) {
  let compared = 0;
  for (const [key, mine] of ours) {
    const theirs = c.golden[`${c.prefix}${name}.${key}`];
    if (!theirs) continue;
    compared++;
    if (mine.dtype === 'int64') {
      assert.equal(mine.item(), theirs.item(), `${key} at ${name}`);
      continue;
    }
    scope(() => {
      const weightScale = Math.max(largest(theirs), 1e-3);
      const weightError = largest(mine.sub(theirs)) / weightScale;
      assert.ok(weightError < WEIGHT_TOL, `${key} at ${name}: max|ours - torch| = ${weightError} of max|w|`);
      const theirBefore = beforeName ? c.golden[`${c.prefix}${beforeName}.${key}`] : undefined;
      const ourBefore = before.get(key) as Tensor;
      // The backbone's weights are not in the warm-up snapshot: they equal the initial ones (checked).
      const theirUpdate = theirs.sub(theirBefore ?? ourBefore);
      const updateScale = largest(theirUpdate);
      const updateError = largest(mine.sub(ourBefore).sub(theirUpdate)) / updateScale;
      if (process.env.STEP_PARITY_REPORT === '1') {
        console.log(`# ${c.arch}${c.prefix} ${name} ${key}: weight ${weightError}, update ${updateError}`);
      }
      assert.ok(updateError < UPDATE_TOL, `${key} at ${name}: update differs by ${updateError} of its scale`);
      assert.ok(updateScale > 10 * WEIGHT_TOL * weightScale, `${key} barely moved at ${name}: a weak comparison`);
    });
  }
  return compared;
}

/** A source that serves the fixture's batch of each (epoch, batch), whatever indices the sampler drew. */
function fixtureSource(c: Case): BatchSource {
  const input = c.golden['input'] as Tensor;
  const labels = c.golden['labels'] as Tensor;
  return {
    load: async (_indices, epoch, batch) => {
      const k = epoch * S.batches + batch;
      if (k >= input.size(0)) throw new Error(`the fixture has no batch ${k} (epoch ${epoch}, batch ${batch})`);
      return scope(() => ({ images: input.select(0, k).clone(), labels: labels.select(0, k).clone() }));
    },
  };
}

async function runCase(c: Case): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'normsoftmax-warmup-'));
  dirs.push(out);
  const config = resolveConfig({
    flags: {
      dataset: 'fashion-mnist',
      arch: c.arch,
      dim: c.dim,
      batchSize: S.batchSize,
      imagesPerClass: S.imagesPerClass,
      lr: S.lr,
      lrMult: S.lrMult,
      gamma: S.gamma,
      momentum: S.momentum,
      weightDecay: S.weightDecay,
      temperature: S.temperature,
      warmupEpochs: S.warmupEpochs,
      epochsPerStep: S.epochsPerStep,
      numSteps: c.numSteps,
      maxBatchesPerEpoch: S.batches,
      evalEvery: 100,
      out,
    },
  });
  const model = createEmbedder({ arch: c.arch, dim: c.dim });
  const inner = new NormSoftmaxLoss({ numClasses: S.numClasses, dim: c.dim, temperature: S.temperature });
  const state = stateOf(model, inner);
  const snapshots = new Map<number, Map<string, Tensor>>();
  const losses: number[] = [];
  // The k-th model forward starts after k - 1 steps (and before BatchNorm sees the k-th batch).
  const forward = model.forward.bind(model);
  let forwards = 0;
  model.forward = (images: Tensor) => {
    if (forwards === WARMUP_STEPS || forwards === WARMUP_STEPS + 1) snapshots.set(forwards, snapshotOf(state));
    forwards++;
    return forward(images);
  };
  const loss: TrainableLoss = {
    forward: (embeddings, labels) => {
      const value = inner.forward(embeddings, labels);
      losses.push(value.item());
      return value;
    },
    parameters: () => inner.parameters(),
    namedParameters: () => inner.namedParameters(),
  };
  const labels = Array.from({ length: 40 }, (_, i) => i % S.numClasses);
  const sampler = new ClassBalancedSampler({ labels, batchSize: S.batchSize, imagesPerClass: S.imagesPerClass });
  const steps = (S.warmupEpochs + S.epochsPerStep * c.numSteps) * S.batches;
  try {
    initialise(state, c);
    const initial = snapshotOf(state);
    await runTraining(
      {
        config,
        model,
        loss,
        sampler,
        source: fixtureSource(c),
        numClasses: S.numClasses,
        evaluate: async () => ({ float: { recall: { '1': 0 } } }),
        outDir: out,
        silent: true,
        log: () => {},
      },
      undefined,
    );
    snapshots.set(forwards, snapshotOf(state));

    const expectedLosses = (c.golden[`${c.prefix}loss`] as Tensor).toArray();
    assert.equal(losses.length, steps, 'steps trained');
    losses.forEach((value, i) => {
      const expected = expectedLosses[i] as number;
      assert.ok(
        Math.abs(value - expected) < LOSS_TOL * Math.max(1, expected),
        `loss ${i + 1}: ${value} vs ${expected}`,
      );
    });

    // After the warm-up: the backbone's weights are bitwise the initial ones, everything else matches.
    const warm = snapshots.get(WARMUP_STEPS) as Map<string, Tensor>;
    const frozenKeys = model.backbone.namedParameters('backbone').map(([k]) => k);
    assert.equal(frozenKeys.length, model.backboneParameters().length);
    for (const key of frozenKeys) {
      assert.ok(warm.has(key), `${key} is a state-dict entry`);
      assert.deepEqual(
        (warm.get(key) as Tensor).toArray(),
        (initial.get(key) as Tensor).toArray(),
        `${key} moved in the warm-up`,
      );
    }
    const frozen = frozenKeys.length;
    const warmCompared = compare('warmup', warm, initial, null, c);
    const buffers = [...warm.keys()].filter((k) => /running_(mean|var)$/.test(k));
    assert.ok(buffers.length > 0, 'the backbone has BatchNorm running statistics');
    assert.equal(warmCompared, warm.size - frozen, 'every other tensor is in the fixture');
    for (const key of [...warm.keys()].filter((k) => k.endsWith('num_batches_tracked'))) {
      assert.equal((warm.get(key) as Tensor).item(), WARMUP_STEPS, `${key} counts the warm-up's batches`);
    }

    // The first main-phase step: a fresh optimiser over all parameters.
    const main1 = snapshots.get(WARMUP_STEPS + 1) as Map<string, Tensor>;
    assert.equal(compare('main1', main1, warm, 'warmup', c), main1.size);
    if (c.hasFinal) {
      const final = snapshots.get(steps) as Map<string, Tensor>;
      assert.equal(compare('final', final, main1, 'main1', c), final.size);
    }

    const epochs = readMetrics(join(out, 'metrics.jsonl')).filter((r) => r.type === 'epoch');
    const lrs = Array.from({ length: S.epochsPerStep * c.numSteps }, (_, e) => [
      'train',
      S.lr * S.gamma ** Math.floor(e / S.epochsPerStep),
    ]);
    assert.deepEqual(
      epochs.map((r) => [r.phase, r.lr]),
      [['warmup', S.lr * S.lrMult], ['warmup', S.lr * S.lrMult], ...lrs],
    );
  } finally {
    for (const snap of [...snapshots.values()]) for (const t of snap.values()) t.dispose();
    model.dispose();
    inner.weight.dispose();
  }
}

describe('warm-up parity with PyTorch: frozen backbone, moving BatchNorm statistics, then a fresh optimiser', () => {
  const golden = () => loadSafetensors(join(GOLDEN_DIR, 'warmup-smallcnn.safetensors')).tensors;

  test('small CNN with a 128 -> 64 remap: 2 warm-up epochs, then 2 main epochs (lr step after the first)', async () => {
    await runCase({ arch: 'smallcnn', dim: 64, seed: 2020, golden: golden(), prefix: '', numSteps: 2, hasFinal: true });
  });

  test('small CNN without a remap (dim = width): the warm-up trains W alone', async () => {
    const c = { arch: 'smallcnn', dim: 128, seed: 2021, golden: golden(), prefix: 'noremap.' } as const;
    await runCase({ ...c, numSteps: 2, hasFinal: false });
  });

  const skip = referenceSkip(['torch', 'torchvision'], 'the ResNet-18 warm-up fixture (tools/golden/warmup_step.py)');
  test('torchvision ResNet-18 at 32x32 (512 -> 128 remap): warm-up and the first main step', { skip }, async () => {
    if (!existsSync(RESNET18_CACHE)) {
      runReference([join(import.meta.dirname, '..', '..', 'tools', 'golden', 'warmup_step.py'), '--resnet18-cache']);
    }
    const golden = loadSafetensors(RESNET18_CACHE).tensors;
    await runCase({ arch: 'resnet18', dim: 128, seed: 1812, golden, prefix: '', numSteps: 1, hasFinal: false });
  });
});
