// bf16 training runs the model in channels_last memory (fp32 training stays row-major); its checkpoint
// is ordinary row-major safetensors, and resuming a bf16 run is exact as for fp32. On a CPU without native
// bf16, precision bf16 trains in fp32 (row-major), saying why; NORMSOFTMAX_CPU_BF16=native runs emulated bf16.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadModel } from '../../src/embed/load-model.js';
import type { TrainConfig } from '../../src/train/config.js';
import { runSession } from '../../src/train/session.js';
import { CPU_BF16, onThisCpu } from '../helpers/cpu-bf16.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { tinyTrainConfig } from '../helpers/tiny-train-config.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function config(numSteps: number, precision: 'fp32' | 'bf16', out?: string): TrainConfig {
  const dir = out ?? mkdtempSync(join(tmpdir(), 'normsoftmax-bf16-cl-'));
  if (!out) dirs.push(dir);
  return tinyTrainConfig({
    warmupEpochs: 0,
    numSteps,
    maxBatchesPerEpoch: 3,
    k: [1],
    seed: 5,
    precision,
    out: dir,
  });
}

async function run(c: TrainConfig, resume?: string, lines?: string[]) {
  const log = (l: string) => lines?.push(l);
  const result = await runSession(c, { dataset: syntheticDataset(), silent: lines === undefined, log, resume });
  const format = result.model.memoryFormat;
  const weights = Object.fromEntries(Object.entries(result.model.stateDict()).map(([k, t]) => [k, t.toArray()]));
  result.model.dispose();
  return { format, weights };
}

async function withCpuBf16<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const old = process.env.NORMSOFTMAX_CPU_BF16;
  process.env.NORMSOFTMAX_CPU_BF16 = value;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env.NORMSOFTMAX_CPU_BF16;
    else process.env.NORMSOFTMAX_CPU_BF16 = old;
  }
}

test(
  onThisCpu('precision bf16 trains channels_last in bf16 where native, else fp32 row-major; one line says which'),
  async () => {
    const lines: string[] = [];
    const a = await run(config(1, 'bf16'), undefined, lines);
    const precisionLines = lines.filter((l) => l.startsWith('precision:'));
    if (CPU_BF16.native) {
      assert.equal(a.format, 'channels_last');
      assert.deepEqual(precisionLines, ['precision: bf16']);
    } else {
      assert.equal(a.format, 'contiguous');
      assert.equal(precisionLines.length, 1);
      assert.match(precisionLines[0] as string, /^precision: fp32 \(bf16 asked, but this CPU has no native bf16 /);
    }
  },
);

test('bf16 training is channels_last, fp32 training row-major; both checkpoints load as written', async () => {
  // bf16 itself on every CPU: emulated where the CPU lacks it (a small CNN, three batches)
  const bf16 = config(1, 'bf16');
  const fp32 = config(1, 'fp32');
  const a = await withCpuBf16('native', () => run(bf16));
  const b = await run(fp32);
  assert.equal(a.format, 'channels_last');
  assert.equal(b.format, 'contiguous');
  const loaded = loadModel(join(bf16.out, 'last.safetensors'));
  try {
    assert.equal(loaded.model.memoryFormat, 'contiguous');
    for (const [k, t] of Object.entries(loaded.model.stateDict())) assert.deepEqual(t.toArray(), a.weights[k], k);
  } finally {
    loaded.model.dispose();
  }
});

test('a bf16 run resumed from its checkpoint ends where the straight run ends', async () => {
  await withCpuBf16('native', async () => {
    const straight = await run(config(2, 'bf16'));
    const split = config(1, 'bf16');
    await run(split);
    const resumed = await run(config(2, 'bf16', split.out), join(split.out, 'last.safetensors'));
    for (const [k, v] of Object.entries(straight.weights)) assert.deepEqual(resumed.weights[k], v, `${k} differs`);
  });
});
