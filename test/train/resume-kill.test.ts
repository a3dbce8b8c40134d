// Resume after a SIGKILL, through the command line (issue 8 point 16): `normsoftmax train` runs as a child
// process on a folder data set of generated PNGs (6 training classes x 32 images, 6 test classes x 8),
// small CNN, warm-up 1 epoch + 2 main epochs of 24 batches, class subsampling. The child is killed
//   - mid-epoch in the main phase (after epoch 2's checkpoint, a few steps into epoch 3: the saved
//     optimiser state continues), and
//   - at the warm-up -> main boundary, right after the warm-up epoch's checkpoint is renamed into place
//     (child/kill-after-checkpoint.mjs, preloaded, kills the process there): the resumed run starts the
//     main phase with a fresh optimiser, and the warm-up's epoch record must not be lost,
// then resumed with `--resume OUT/last.safetensors`. The resumed run must end with the weights, class
// weights W and optimiser state of an uninterrupted run with the same seed (to 1e-6; in practice bitwise),
// and OUT/metrics.jsonl must read as the uninterrupted run's: the interrupted epoch's records are
// dropped, none twice, none torn (only the timing fields may differ).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { scope, type Tensor } from '../../src/tensor/index.js';
import { type Checkpoint, disposeCheckpoint, loadCheckpoint } from '../../src/train/checkpoint.js';
import { Rng } from '../../src/util/rng.js';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'normsoftmax.mjs');
const work = mkdtempSync(join(tmpdir(), 'normsoftmax-resume-kill-'));
const data = join(work, 'data');
after(() => rmSync(work, { recursive: true, force: true }));

const BATCHES = 24;
const TRAIN = [
  'train',
  '--dataset',
  'folder',
  '--root',
  data,
  '--arch',
  'smallcnn',
  '--dim',
  '16',
  '--batch-size',
  '8',
  '--images-per-class',
  '4',
  '--resize',
  '28',
  '--crop',
  '28',
  '--warmup-epochs',
  '1',
  '--epochs-per-step',
  '1',
  '--num-steps',
  '2',
  '--lr-mult',
  '2',
  '--max-batches-per-epoch',
  String(BATCHES),
  '--class-fraction',
  '0.75',
  '--seed',
  '3',
  '--k',
  '1',
  '--eval-every',
  '100',
  '--threads',
  '1',
  '--workers',
  '1',
];
const ENV = { ...process.env, NORMSOFTMAX_THREADS: '1' };
const KILL_AFTER_CHECKPOINT = join(import.meta.dirname, 'child', 'kill-after-checkpoint.mjs');

/** ROOT/classNN/i.png, 28x28 gray: a class-specific bright square at a jittered position, plus noise. */
async function makeDataset(): Promise<void> {
  const rng = new Rng(5);
  for (let c = 0; c < 12; c++) {
    const dir = join(data, `class${String(c).padStart(2, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < (c < 6 ? 32 : 8); i++) {
      const img = new Uint8Array(28 * 28);
      for (let p = 0; p < img.length; p++) img[p] = rng.int(40);
      const x0 = (c * 5 + rng.int(3)) % 20;
      const y0 = (c * 7 + rng.int(3)) % 20;
      for (let y = y0; y < y0 + 8; y++) for (let x = x0; x < x0 + 8; x++) img[y * 28 + x] = 200 + rng.int(55);
      await sharp(Buffer.from(img), { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(join(dir, `${i}.png`));
    }
  }
}

function train(out: string, ...extra: string[]): void {
  const r = spawnSync(process.execPath, [CLI, ...TRAIN, '--out', out, ...extra], { encoding: 'utf8', env: ENV });
  assert.equal(r.status, 0, `train ${extra.join(' ')} exited with ${r.status}:\n${r.stderr}`);
}

type MetricsLine = Record<string, unknown> & { type: string; epoch: number };

/** The lines of metrics.jsonl; a torn line fails the test with the line. */
function metrics(out: string): MetricsLine[] {
  const path = join(out, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as MetricsLine;
      } catch {
        throw new assert.AssertionError({ message: `metrics.jsonl has a torn line: ${l}` });
      }
    });
}

/** A record without its timing fields (wall-clock seconds and throughput differ from run to run). */
function timeless(r: MetricsLine): Record<string, unknown> {
  const { seconds: _s, imagesPerSecond: _i, ...rest } = r;
  return rest;
}

/**
 * Starts a training run and SIGKILLs it as soon as `ready(records)` holds for its metrics.jsonl (polled
 * every 5 ms). Fails if the run ends by itself first.
 */
async function trainAndKill(out: string, ready: (records: MetricsLine[]) => boolean): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...TRAIN, '--out', out], {
    env: ENV,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => {
    done = true;
  });
  while (!done) {
    let records: MetricsLine[] = [];
    try {
      records = metrics(out);
    } catch {
      // A line being written right now: look again.
    }
    if (ready(records)) {
      child.kill('SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const end = await exited;
  assert.equal(end.signal, 'SIGKILL', `the run ended by itself (${end.code}) before the kill point:\n${stderr}`);
}

function epochsDone(out: string): number {
  const c = loadCheckpoint(join(out, 'last.safetensors'));
  try {
    return c.meta.epochsDone;
  } finally {
    disposeCheckpoint(c);
  }
}

/** Every tensor of the final checkpoint (model, W, optimiser state) within 1e-6 of the uninterrupted run's. */
function assertSameCheckpoint(out: string, reference: string): void {
  const [a, b] = [loadCheckpoint(join(out, 'last.safetensors')), loadCheckpoint(join(reference, 'last.safetensors'))];
  try {
    const parts = (c: Checkpoint): [string, Tensor][] => [
      ...Object.entries(c.model).map(([k, t]): [string, Tensor] => [`model.${k}`, t]),
      ...Object.entries(c.loss).map(([k, t]): [string, Tensor] => [`loss.${k}`, t]),
      ...Object.entries(c.optimizer).map(([k, t]): [string, Tensor] => [`optimizer.${k}`, t]),
    ];
    const ours = new Map(parts(a));
    const theirs = parts(b);
    assert.deepEqual([...ours.keys()].sort(), theirs.map(([k]) => k).sort());
    assert.ok(
      theirs.some(([k]) => k.includes('momentum')),
      'the optimiser state is compared',
    );
    for (const [key, t] of theirs) {
      const mine = ours.get(key) as Tensor;
      assert.deepEqual(mine.shape, t.shape, key);
      const diff = scope(() => mine.to('float64').sub(t.to('float64')).abs().max().item());
      assert.ok(diff <= 1e-6, `${key} differs from the uninterrupted run by ${diff}`);
    }
    assert.equal(a.meta.step, b.meta.step, 'steps');
    assert.deepEqual(a.meta.sampler, b.meta.sampler, 'sampler state');
    assert.deepEqual(a.meta.lossRng, b.meta.lossRng, 'class-subsampling RNG state');
    assert.deepEqual(a.meta.lastEval, b.meta.lastEval, 'the final evaluation');
  } finally {
    disposeCheckpoint(a);
    disposeCheckpoint(b);
  }
}

describe('resume after a SIGKILL through `normsoftmax train --resume`', () => {
  const straight = join(work, 'straight');
  before(async () => {
    await makeDataset();
    train(straight);
  });

  const stepsOf = (records: MetricsLine[], epoch: number) =>
    records.filter((r) => r.type === 'step' && r.epoch === epoch);
  const hasEpoch = (records: MetricsLine[], epoch: number) =>
    records.some((r) => r.type === 'epoch' && r.epoch === epoch);

  test('killed mid-epoch in the main phase: same final weights and optimiser state, metrics trimmed', async () => {
    const out = join(work, 'mid-epoch');
    await trainAndKill(out, (records) => stepsOf(records, 3).length > 0);
    assert.equal(epochsDone(out), 2, 'the last checkpoint is the end of epoch 2');
    const killed = metrics(out);
    assert.ok(stepsOf(killed, 3).length > 0 && !hasEpoch(killed, 3), 'killed mid-epoch 3');

    train(out, '--resume', join(out, 'last.safetensors'));
    assert.deepEqual(metrics(out).map(timeless), metrics(straight).map(timeless));
    assertSameCheckpoint(out, straight);
  });

  test('killed right after the warm-up checkpoint: the main phase starts with a fresh optimiser as in one run', async () => {
    const out = join(work, 'boundary');
    const r = spawnSync(process.execPath, ['--import', KILL_AFTER_CHECKPOINT, CLI, ...TRAIN, '--out', out], {
      encoding: 'utf8',
      env: { ...ENV, NORMSOFTMAX_TEST_KILL_AFTER_CHECKPOINT: '1' },
    });
    assert.equal(r.signal, 'SIGKILL', `the run was not killed after its first checkpoint (${r.status}):\n${r.stderr}`);
    assert.equal(epochsDone(out), 1, 'the last checkpoint is the end of the warm-up epoch');
    assert.ok(!hasEpoch(metrics(out), 2), 'killed before the first main-phase epoch ended');

    train(out, '--resume', join(out, 'last.safetensors'));
    const records = metrics(out);
    assert.deepEqual(records.map(timeless), metrics(straight).map(timeless));
    assert.deepEqual(
      records.filter((r) => r.type === 'epoch').map((r) => [r.epoch, r.phase]),
      [
        [1, 'warmup'],
        [2, 'train'],
        [3, 'train'],
      ],
    );
    assertSameCheckpoint(out, straight);
  });
});
