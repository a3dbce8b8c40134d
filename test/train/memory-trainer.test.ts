// Memory stays flat over hundreds of steps of the real trainer (issue 8 point 18), not only a small MLP
// (test/tensor/memory.test.ts): ResNet-18 at 32x32 with BatchNorm, the image-file loader over generated
// PNGs, NormSoftmax with class subsampling (a different subset of W's rows each step, gathered into its
// own leaf) and SGD with momentum (row-sparse updates of W), through runTraining, in a child process
// (child/trainer-memory.ts) on one libtorch thread. After the first main-phase epoch (step 50) every
// step's tensors must be freed, by scopes and dispose() rather than the GC backstop: the same number of
// live tensors (before and after a forced collection) and native bytes at step 300; and RSS may grow
// only a little (allocator noise; leaking a batch of images per step would add 20 MB over 200 steps).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { Rng } from '../../src/util/rng.js';

const work = mkdtempSync(join(tmpdir(), 'normsoftmax-trainer-memory-'));
after(() => rmSync(work, { recursive: true, force: true }));
const MAIN_EPOCHS = 11; // 25 batches each, after a 25-batch warm-up: 300 steps
// RSS settles one main epoch later than the tensor count (malloc keeps freed blocks; measured: +50 MB
// from step 50 to 75, then within +-6 MB up to step 300), so its growth is measured from step 100.
const RSS_FROM = 100;
const RSS_GROWTH_MB = 32;

/** 80 class folders of 36x36 RGB PNGs: the first 40 (5 images each) train, the rest (1 each) test. */
async function makeDataset(root: string): Promise<void> {
  const rng = new Rng(9);
  for (let c = 0; c < 80; c++) {
    const dir = join(root, `c${String(c).padStart(2, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < (c < 40 ? 5 : 1); i++) {
      const img = new Uint8Array(36 * 36 * 3);
      for (let p = 0; p < img.length; p++) img[p] = (c * 37 + rng.int(60)) % 256;
      await sharp(Buffer.from(img), { raw: { width: 36, height: 36, channels: 3 } })
        .png()
        .toFile(join(dir, `${i}.png`));
    }
  }
}

before(async () => {
  await makeDataset(join(work, 'data'));
});

test('300 steps of ResNet-18 + image loader + subsampled NormSoftmax + SGD: live tensors flat, RSS bounded', () => {
  const script = join(import.meta.dirname, 'child', 'trainer-memory.ts');
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', script, join(work, 'data'), join(work, 'out'), String(MAIN_EPOCHS)],
    { encoding: 'utf8', timeout: 300_000, env: { ...process.env, NORMSOFTMAX_THREADS: '1' } },
  );
  assert.equal(r.status, 0, `trainer-memory.ts exited with ${r.status} (signal ${r.signal}):\n${r.stderr}`);
  type Snapshot = { step: number; liveTensors: number; liveBeforeGc: number; bytes: number; rss: number };
  const out = JSON.parse(r.stdout) as { steps: number; snapshots: Snapshot[]; numClasses: number; subsets: number };
  assert.equal(out.steps, 300);
  assert.equal(out.numClasses, 40);
  assert.ok(out.subsets > 250, `the class subset changes from step to step (${out.subsets} distinct in 300 steps)`);
  const at = (step: number) => out.snapshots.find((s) => s.step === step) as Snapshot;
  const [first, last] = [at(50), at(300)];
  assert.ok(first && last, `snapshots at steps ${out.snapshots.map((s) => s.step)}`);
  if (process.env.MEMORY_REPORT === '1') console.log(`# ${JSON.stringify(out.snapshots)}`);
  assert.equal(last.liveTensors, first.liveTensors, 'live tensors at step 300 vs step 50');
  assert.equal(last.liveBeforeGc, first.liveBeforeGc, 'live tensors before a collection: freed without the GC');
  assert.equal(last.liveBeforeGc, last.liveTensors, 'no tensor is left for the GC backstop to free');
  assert.equal(last.bytes, first.bytes, 'native bytes at step 300 vs step 50');
  const settled = at(RSS_FROM) as Snapshot;
  const peak = Math.max(...out.snapshots.filter((s) => s.step >= RSS_FROM).map((s) => s.rss));
  const grownMB = (peak - settled.rss) / 2 ** 20;
  assert.ok(grownMB < RSS_GROWTH_MB, `RSS grew ${grownMB.toFixed(1)} MB after step ${RSS_FROM}`);
});
