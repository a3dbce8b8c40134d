// runTraining when things go wrong: whatever throws (a batch that cannot be loaded, the step itself), the
// error reaches the caller, the batch loaded ahead is awaited and freed, the optimiser's state is freed,
// and the live tensor count returns to what it was. A non-finite loss never updates the weights: the
// batch is skipped and counted, and several in a row stop training with a FailureError.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ClassBalancedSampler } from '../../src/data/samplers/class-balanced.js';
import type { BatchSource } from '../../src/data/sources/types.js';
import type { Dataset } from '../../src/data/types.js';
import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import { createEmbedder, type Embedder } from '../../src/nn/index.js';
import { Generator, keep, memory, randn, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { resolveConfig } from '../../src/train/config.js';
import { type EpochRecord, readMetrics } from '../../src/train/metrics.js';
import { runSession } from '../../src/train/session.js';
import { MAX_NONFINITE_BATCHES, runTraining, type TrainableLoss } from '../../src/train/trainer.js';
import { FailureError, UsageError } from '../../src/util/errors.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const CLASSES = 4;
const BATCH = 4;
const LABELS = Array.from({ length: 32 }, (_, i) => i % CLASSES);

interface Rig {
  model: Embedder;
  loss: NormSoftmaxLoss;
  run: (source: BatchSource, lossOf?: (inner: Tensor, call: number) => Tensor) => Promise<unknown>;
  out: string;
}

function rig(batchesPerEpoch: number, epochs = 1): Rig {
  const out = mkdtempSync(join(tmpdir(), 'normsoftmax-trainer-errors-'));
  dirs.push(out);
  const config = resolveConfig({
    flags: {
      dataset: 'fashion-mnist',
      arch: 'smallcnn',
      dim: 8,
      batchSize: BATCH,
      imagesPerClass: 2,
      warmupEpochs: 0,
      epochsPerStep: epochs,
      numSteps: 1,
      maxBatchesPerEpoch: batchesPerEpoch,
      evalEvery: 100,
      out,
    },
  });
  const model = createEmbedder({ arch: 'smallcnn', dim: 8 });
  const loss = new NormSoftmaxLoss({ numClasses: CLASSES, dim: 8, classFraction: 0.75, generator: new Generator(1) });
  const run = (source: BatchSource, lossOf?: (inner: Tensor, call: number) => Tensor) => {
    let calls = 0;
    const wrapped: TrainableLoss = {
      forward: (e, y) => {
        const value = loss.forward(e, y);
        return lossOf ? lossOf(value, calls++) : value;
      },
      parameters: () => loss.parameters(),
      namedParameters: () => loss.namedParameters(),
    };
    const sampler = new ClassBalancedSampler({ labels: LABELS, batchSize: BATCH, imagesPerClass: 2 });
    return runTraining({
      config,
      model,
      loss: wrapped,
      sampler,
      source,
      numClasses: CLASSES,
      evaluate: async () => ({ float: { recall: { '1': 0 } } }),
      outDir: out,
      silent: true,
      log: () => {},
    });
  };
  return { model, loss, run, out };
}

/** Random 1x28x28 images; load(b) fails as `fail` says, after `delayMs`. */
function source(o: { failAt?: number; delayMs?: number } = {}): BatchSource & { loaded: number[] } {
  const loaded: number[] = [];
  return {
    loaded,
    load: async (indices, _epoch, batch) => {
      await new Promise((r) => setTimeout(r, o.delayMs ?? 0));
      if (batch === o.failAt) throw new Error(`cannot read batch ${batch}`);
      loaded.push(batch);
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

function dispose(r: Rig): void {
  r.model.dispose();
  r.loss.weight.dispose();
}

test('a load() that rejects at batch 3: the error reaches the caller and live tensors return to the baseline', async () => {
  const r = rig(6);
  const baseline = memory().liveTensors;
  const src = source({ failAt: 3 });
  await assert.rejects(r.run(src), /cannot read batch 3/);
  assert.deepEqual(src.loaded, [0, 1, 2]);
  assert.equal(memory().liveTensors, baseline);
  dispose(r);
});

test('a step that throws while the next batch is loading: the batch is awaited and freed, no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    for (const failAt of [undefined, 3]) {
      const r = rig(6);
      const baseline = memory().liveTensors;
      const src = source({ delayMs: 30, failAt });
      const run = r.run(src, (value, call) => {
        if (call === 2) throw new Error('the step failed');
        return value;
      });
      await assert.rejects(run, /the step failed/);
      // Batch 3 was being loaded (or failing) ahead when step 2 threw.
      assert.deepEqual(src.loaded, failAt === undefined ? [0, 1, 2, 3] : [0, 1, 2]);
      assert.equal(memory().liveTensors, baseline, `failAt ${failAt}`);
      dispose(r);
    }
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

/** A copy of every weight (model and W), to compare after training. */
function snapshot(r: Rig): Tensor[] {
  return scope(() => [...Object.values(r.model.stateDict()), r.loss.weight].map((t) => keep(t.detach().clone())));
}

/** Max |after - before| of each weight. */
function changes(r: Rig, before: Tensor[]): number[] {
  return scope(() => {
    const now = [...Object.values(r.model.stateDict()), r.loss.weight];
    return now.map((t, i) =>
      t
        .detach()
        .sub(before[i] as Tensor)
        .abs()
        .max()
        .to('float64')
        .item(),
    );
  });
}

test('a non-finite loss is skipped (no update, counted); a finite one after it trains', async () => {
  const r = rig(4);
  const before = snapshot(r);
  // Batches 0 and 1 NaN, 2 Inf: three in a row, fewer than the limit; batch 3 finite.
  const poison = [Number.NaN, Number.NaN, Number.POSITIVE_INFINITY];
  await r.run(source(), (value, call) => (call < poison.length ? value.mul(poison[call] as number) : value));
  const epoch = readMetrics(join(r.out, 'metrics.jsonl')).find((m) => m.type === 'epoch') as EpochRecord;
  assert.equal(epoch.skippedBatches, 3);
  assert.equal(epoch.emptyBatches, 0);
  assert.ok(Number.isFinite(epoch.loss));
  const moved = changes(r, before);
  assert.ok(moved.every(Number.isFinite), 'every weight finite');
  assert.ok((moved.at(-1) as number) > 0, 'W trained on batch 3');
  for (const t of before) t.dispose();
  dispose(r);
});

test(`${MAX_NONFINITE_BATCHES} non-finite losses in a row: FailureError "training diverged", weights never updated`, async () => {
  const r = rig(8);
  const before = snapshot(r);
  const baseline = memory().liveTensors;
  const run = r.run(source(), (value) => value.mul(Number.NaN));
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof FailureError);
    assert.equal(
      e.message,
      `training diverged: the loss was not finite for ${MAX_NONFINITE_BATCHES} batches in a row (epoch 1, batch ${MAX_NONFINITE_BATCHES}); try a lower --lr`,
    );
    return true;
  });
  assert.equal(memory().liveTensors, baseline);
  const moved = changes(r, before);
  // BatchNorm's running statistics move with every forward (train mode); no weight does.
  const keys = [...Object.keys(scope(() => r.model.stateDict())), 'W'];
  assert.equal(keys.length, moved.length);
  keys.forEach((k, i) => {
    if (!/running_|num_batches/.test(k)) assert.equal(moved[i], 0, `${k} unchanged`);
  });
  for (const t of before) t.dispose();
  dispose(r);
});

test('a K list the test split cannot answer is refused before training starts (UsageError naming --k)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'normsoftmax-trainer-k-'));
  dirs.push(out);
  const sample = (split: string, i: number) => ({ path: `mem:${split}/${i}`, label: i % 2 });
  const dataset: Dataset = {
    name: 'memory',
    root: out,
    splits: {
      train: Array.from({ length: 8 }, (_, i) => sample('train', i)),
      test: Array.from({ length: 5 }, (_, i) => sample('test', i)),
    },
    readRaw: () => ({ data: new Uint8Array(28 * 28), width: 28, height: 28, channels: 1 }),
  };
  const config = resolveConfig({
    flags: { dataset: 'fashion-mnist', arch: 'smallcnn', dim: 8, batchSize: 4, imagesPerClass: 2, k: [1, 8], out },
  });
  await assert.rejects(
    runSession(config, { dataset, silent: true, log: () => {} }),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message ===
        '--k: Recall@8 needs at least 8 gallery items per query, the gallery has 5 items, 4 of them retrievable (a query excludes itself)',
  );
  assert.equal(existsSync(join(out, 'metrics.jsonl')), false, 'nothing trained');
});
