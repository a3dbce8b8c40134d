// Resume is exact: training straight through equals training part-way, then resuming from the checkpoint.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TrainConfig } from '../../src/train/config.js';
import { readMetrics } from '../../src/train/metrics.js';
import { runSession } from '../../src/train/session.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { tinyTrainConfig } from '../helpers/tiny-train-config.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function config(out: string, numSteps: number): TrainConfig {
  return tinyTrainConfig({
    warmupEpochs: 1,
    numSteps,
    gamma: 0.5,
    k: [1, 2],
    seed: 3,
    classFraction: 0.75,
    out,
  });
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'normsoftmax-resume-'));
  dirs.push(d);
  return d;
}

async function finalWeights(c: TrainConfig, resume?: string): Promise<Map<string, number[]>> {
  const result = await runSession(c, { dataset: syntheticDataset(), silent: true, log: () => {}, resume });
  const weights = new Map(Object.entries(result.model.stateDict()).map(([k, t]) => [k, t.toArray()]));
  result.model.dispose();
  return weights;
}

test('training 3 epochs straight equals 2 epochs then resume for 1 (warm-up, main phase, class subsampling)', async () => {
  const straightDir = tempDir();
  const straight = await finalWeights(config(straightDir, 2));

  const splitDir = tempDir();
  await finalWeights(config(splitDir, 1));
  const resumed = await finalWeights(config(splitDir, 2), join(splitDir, 'last.safetensors'));

  assert.deepEqual([...resumed.keys()], [...straight.keys()]);
  for (const [key, values] of straight) assert.deepEqual(resumed.get(key), values, `${key} differs after resume`);
  const epochs = readMetrics(join(splitDir, 'metrics.jsonl')).filter((r) => r.type === 'epoch');
  assert.deepEqual(
    epochs.map((r) => r.epoch),
    [1, 2, 3],
  );
  const straightLosses = readMetrics(join(straightDir, 'metrics.jsonl')).filter((r) => r.type === 'epoch');
  assert.deepEqual(
    epochs.map((r) => r.loss),
    straightLosses.map((r) => r.loss),
  );
});

test('training changes the weights and resume refuses a checkpoint of another configuration', async () => {
  const dir = tempDir();
  const c = config(dir, 1);
  const result = await runSession(c, { dataset: syntheticDataset(), silent: true, log: () => {} });
  assert.ok(result.lastEval, 'the last epoch is evaluated');
  assert.ok((result.lastEval?.float.recall['1'] ?? 0) > 0);
  result.model.dispose();
  await assert.rejects(
    runSession({ ...c, dim: 32 }, { dataset: syntheticDataset(), silent: true, resume: join(dir, 'last.safetensors') }),
    /--dim is 16 in the checkpoint, 32 in this run; a resumed run keeps it/,
  );
});
