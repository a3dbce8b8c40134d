// The trainer's steps and hooks with a recording DataParallel (no process group): the order in which the
// trainer calls them (start; per batch the buffer broadcast, then the gradient all-reduce; the barrier
// after each epoch's checkpoint), the batch context each loss gets (the global batch's labels while the
// forward sees this rank's half), and the all-reduce's loss deciding whether the step is taken.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ClassBalancedSampler } from '../../src/data/samplers/class-balanced.js';
import type { BatchSource } from '../../src/data/sources/types.js';
import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import type { BatchContext } from '../../src/loss/types.js';
import { createEmbedder } from '../../src/nn/index.js';
import { Generator, randn, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { resolveConfig } from '../../src/train/config.js';
import { type EpochRecord, readMetrics } from '../../src/train/metrics.js';
import type { DataParallel } from '../../src/train/parallel.js';
import { runTraining, type TrainableLoss } from '../../src/train/trainer.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const CLASSES = 4;
const BATCH = 8;
const LABELS = Array.from({ length: 32 }, (_, i) => i % CLASSES);
const EPOCHS = 2;
const BATCHES = 3;

function source(loaded: number[][]): BatchSource {
  return {
    load: async (indices) => {
      loaded.push(indices);
      return scope(() => ({
        images: randn([indices.length, 1, 28, 28]),
        labels: tensor(
          indices.map((i) => LABELS[i] as number),
          { dtype: 'int64' },
        ),
      }));
    },
  };
}

interface Run {
  calls: string[];
  contexts: BatchContext[];
  forwardLabels: number[][];
  loaded: number[][];
  records: EpochRecord[];
}

/** Trains 2 epochs of 3 batches; `parallel` true: as rank 0 of 2 (shard: the first half of each batch). */
async function train(o: { parallel: boolean; allReduced?: (loss: number, call: number) => number }): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), 'normsoftmax-trainer-hooks-'));
  dirs.push(out);
  const config = resolveConfig({
    flags: {
      dataset: 'fashion-mnist',
      arch: 'smallcnn',
      dim: 8,
      batchSize: BATCH,
      imagesPerClass: 2,
      warmupEpochs: 1,
      epochsPerStep: 1,
      numSteps: 1,
      maxBatchesPerEpoch: BATCHES,
      evalEvery: 100,
      out,
    },
  });
  const calls: string[] = [];
  const contexts: BatchContext[] = [];
  const forwardLabels: number[][] = [];
  const loaded: number[][] = [];
  const model = createEmbedder({ arch: 'smallcnn', dim: 8 });
  const inner = new NormSoftmaxLoss({ numClasses: CLASSES, dim: 8, classFraction: 0.75, generator: new Generator(1) });
  const loss: TrainableLoss = {
    beginBatch: (ctx) => {
      contexts.push(ctx);
      calls.push('beginBatch');
      inner.beginBatch(ctx);
    },
    forward: (e: Tensor, y: Tensor) => {
      forwardLabels.push(y.toArray());
      calls.push('forward');
      return inner.forward(e, y);
    },
    parameters: () => inner.parameters(),
    namedParameters: () => inner.namedParameters(),
  };
  let reduced = 0;
  const parallel: DataParallel = {
    rank: 0,
    worldSize: 2,
    isMain: true,
    shard: (indices) => indices.slice(0, indices.length / 2),
    start: async (parameters, buffers) => {
      calls.push(`start ${parameters.length} ${buffers.length}`);
    },
    beforeForward: async () => {
      calls.push('beforeForward');
    },
    averageGradients: async (grads, value) => {
      calls.push(`allReduce ${grads.length}`);
      return o.allReduced ? o.allReduced(value, reduced++) : value;
    },
    gatherRows: async () => null,
    barrier: async () => {
      calls.push('barrier');
    },
  };
  try {
    await runTraining({
      config,
      model,
      loss,
      sampler: new ClassBalancedSampler({ labels: LABELS, batchSize: BATCH, imagesPerClass: 2 }),
      source: source(loaded),
      numClasses: CLASSES,
      evaluate: async () => {
        calls.push('evaluate');
        return { float: { recall: { '1': 0 } } };
      },
      outDir: out,
      silent: true,
      log: () => {},
      ...(o.parallel ? { parallel, trainLabels: LABELS } : {}),
    });
    const records = readMetrics(join(out, 'metrics.jsonl')).filter((r): r is EpochRecord => r.type === 'epoch');
    return { calls, contexts, forwardLabels, loaded, records };
  } finally {
    model.dispose();
    inner.weight.dispose();
  }
}

test('data-parallel hooks: start once, broadcast before each forward, all-reduce after each backward, barrier per epoch', async () => {
  const r = await train({ parallel: true });
  const params = createEmbedder({ arch: 'smallcnn', dim: 8 });
  const parameters = params.parameters().length + 1;
  const buffers = params.namedBuffers().length;
  params.dispose();
  const step = ['beginBatch', 'beforeForward', 'forward'];
  // warm-up: the backbone is frozen, so only the new parameters and W's rows have gradients
  const warmStep = [...step, `allReduce ${r.calls.find((c) => c.startsWith('allReduce'))?.split(' ')[1]}`];
  const mainReduce = r.calls.filter((c) => c.startsWith('allReduce')).at(-1) as string;
  assert.deepEqual(r.calls, [
    `start ${parameters} ${buffers}`,
    ...warmStep,
    ...warmStep,
    ...warmStep,
    'barrier',
    ...[...step, mainReduce],
    ...[...step, mainReduce],
    ...[...step, mainReduce],
    // the last epoch evaluates, with rank 0's buffers first
    'beforeForward',
    'evaluate',
    'barrier',
  ]);
  const warmGrads = Number(warmStep.at(-1)?.split(' ')[1]);
  const mainGrads = Number(mainReduce.split(' ')[1]);
  assert.ok(mainGrads > warmGrads, `the main phase reduces the backbone's gradients too (${mainGrads} > ${warmGrads})`);

  // each context holds the global batch's 8 labels; the forward got this rank's 4
  assert.deepEqual(
    r.contexts.map((c) => [c.epoch, c.step, c.rank, c.worldSize, c.labels.length]),
    [0, 1, 2, 3, 4, 5].map((s) => [s < BATCHES ? 0 : 1, s, 0, 2, BATCH]),
  );
  assert.equal(r.loaded.length, EPOCHS * BATCHES);
  r.loaded.forEach((indices, i) => {
    assert.equal(indices.length, BATCH / 2, 'this rank loads its half');
    assert.deepEqual(
      r.forwardLabels[i],
      indices.map((j) => LABELS[j]),
    );
    assert.deepEqual(
      (r.contexts[i] as BatchContext).labels.slice(0, BATCH / 2),
      r.forwardLabels[i],
      'its half of the global labels',
    );
  });
});

test('one process: no hooks; the context holds the batch labels, world size 1', async () => {
  const r = await train({ parallel: false });
  assert.deepEqual(
    r.calls.filter((c) => c !== 'beginBatch' && c !== 'forward'),
    ['evaluate'],
  );
  assert.deepEqual(
    r.contexts.map((c) => [c.epoch, c.step, c.rank, c.worldSize]),
    [0, 1, 2, 3, 4, 5].map((s) => [s < BATCHES ? 0 : 1, s, 0, 1]),
  );
  r.contexts.forEach((c, i) => {
    assert.deepEqual(c.labels, r.forwardLabels[i]);
    assert.equal(c.labels.length, BATCH);
  });
});

test("the all-reduce's loss decides the step: a non-finite mean skips the batch on every rank", async () => {
  const r = await train({ parallel: true, allReduced: (loss, call) => (call === 1 ? Number.NaN : loss) });
  assert.deepEqual(
    r.records.map((e) => e.skippedBatches),
    [1, 0],
  );
});
