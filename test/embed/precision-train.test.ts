// Training at --precision bf16: the model's forward runs under autocast (bf16 activations), the loss and
// its class weights outside it in float32, parameters and optimiser state stay float32, and a few steps
// on a learnable task reduce the loss.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ClassBalancedSampler } from '../../src/data/samplers/class-balanced.js';
import type { BatchSource } from '../../src/data/sources/types.js';
import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import { createEmbedder } from '../../src/nn/index.js';
import { autocastState } from '../../src/tensor/autocast.js';
import { cat, Generator, manualSeed, randn, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { disposeCheckpoint, loadCheckpoint } from '../../src/train/checkpoint.js';
import { resolveConfig } from '../../src/train/config.js';
import { runTraining, type TrainableLoss } from '../../src/train/trainer.js';
import { onThisCpu } from '../helpers/cpu-bf16.js';

const CLASSES = 4;
const BATCH = 8;
const LABELS = Array.from({ length: 48 }, (_, i) => i % CLASSES);
const EPOCHS = 3;

const out = mkdtempSync(join(tmpdir(), 'normsoftmax-precision-train-'));
after(() => rmSync(out, { recursive: true, force: true }));

// runTraining is given bf16 directly, so it trains in bf16 on every CPU (emulated where bf16 is not native).
// Loss, first epoch -> last (2026-12-07): 4.15 -> 0.43 native (AVX-512 BF16), 4.38 -> 0.10 emulated
// (scripts/as-avx2-cpu.sh).
const NAME = onThisCpu(
  'bf16 training of smallcnn: forward under autocast, loss in fp32, fp32 parameters and state, loss goes down',
);
test(NAME, async () => {
  manualSeed(7);
  const config = resolveConfig({
    flags: {
      dataset: 'fashion-mnist',
      arch: 'smallcnn',
      dim: 16,
      batchSize: BATCH,
      imagesPerClass: 2,
      lr: 0.05,
      warmupEpochs: 0,
      epochsPerStep: EPOCHS,
      numSteps: 1,
      evalEvery: 100,
      precision: 'bf16',
      out,
    },
  });
  assert.equal(config.precision, 'bf16');
  const model = createEmbedder({ arch: 'smallcnn', dim: 16 });
  const loss = new NormSoftmaxLoss({ numClasses: CLASSES, dim: 16, classFraction: 1, generator: new Generator(1) });
  // One fixed template per class plus fresh noise: learnable in a few steps.
  const templates = randn([CLASSES, 1, 28, 28]);
  const source: BatchSource = {
    load: async (indices) =>
      scope(() => {
        const labels = indices.map((i) => LABELS[i] as number);
        const rows = labels.map((c) => templates.narrow(0, c, 1));
        return {
          images: cat(rows, 0).add(randn([indices.length, 1, 28, 28]).mul(0.3)),
          labels: tensor(labels, { dtype: 'int64' }),
        };
      }),
  };
  const forwardStates: { autocast: boolean; dtype: string }[] = [];
  const plainForward = model.forward.bind(model);
  model.forward = (x: Tensor) => {
    const y = plainForward(x);
    forwardStates.push({ autocast: autocastState().enabled, dtype: y.dtype });
    return y;
  };
  const losses: number[] = [];
  const lossStates: { autocast: boolean; input: string; output: string }[] = [];
  const wrapped: TrainableLoss = {
    forward: (e, y) => {
      const value = loss.forward(e, y);
      lossStates.push({ autocast: autocastState().enabled, input: e.dtype, output: value.dtype });
      losses.push(value.item());
      return value;
    },
    parameters: () => loss.parameters(),
    namedParameters: () => loss.namedParameters(),
  };
  try {
    await runTraining({
      config,
      model,
      loss: wrapped,
      sampler: new ClassBalancedSampler({ labels: LABELS, batchSize: BATCH, imagesPerClass: 2, seed: 1 }),
      source,
      numClasses: CLASSES,
      evaluate: async () => ({ float: { recall: { '1': 0 } } }),
      outDir: out,
      silent: true,
      log: () => {},
      precision: 'bf16',
    });
    const steps = EPOCHS * (LABELS.length / BATCH);
    assert.equal(losses.length, steps);
    assert.deepEqual(
      new Set(forwardStates.map((s) => JSON.stringify(s))),
      new Set(['{"autocast":true,"dtype":"bfloat16"}']),
    );
    assert.deepEqual(
      new Set(lossStates.map((s) => JSON.stringify(s))),
      new Set(['{"autocast":false,"input":"float32","output":"float32"}']),
    );
    const first = losses.slice(0, 6).reduce((a, b) => a + b) / 6;
    const last = losses.slice(-6).reduce((a, b) => a + b) / 6;
    console.log(`bf16 smallcnn NormSoftmax loss: first epoch ${first.toFixed(4)}, last epoch ${last.toFixed(4)}`);
    assert.ok(last < 0.7 * first, `loss ${first} -> ${last}`);
    for (const [name, p] of [...model.namedParameters(), ...Object.entries(loss.namedParameters())]) {
      assert.equal(p.dtype, 'float32', name);
    }
    const ckpt = loadCheckpoint(join(out, 'last.safetensors'));
    try {
      const state = Object.entries(ckpt.optimizer);
      assert.ok(state.length > 0, 'SGD momentum buffers saved');
      for (const [name, t] of state) assert.equal(t.dtype, 'float32', name);
    } finally {
      disposeCheckpoint(ckpt);
    }
  } finally {
    templates.dispose();
    model.dispose();
    loss.weight.dispose();
  }
});
