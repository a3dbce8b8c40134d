// Issue 8 point 10: triplet loss with a shuffle sampler on a data set of two images per class, where most
// batches hold no positive pair. It used to give a NaN loss, report "training diverged" after applying
// the NaN update, and then exit with code 13 and no output at all (the decode pool's close() never
// settled). Now each such batch is a zero loss, counted in the log and in metrics.jsonl, and the run ends.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ShuffleSampler } from '../../src/data/samplers/shuffle.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { writeImageFolder } from '../helpers/images.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-triplet-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Batches of the run's sampler (the train split: classes 0-19, two images each, in order) without a pair. */
function batchesWithoutPair(): { without: number; total: number } {
  const labels = Array.from({ length: 40 }, (_, i) => Math.floor(i / 2));
  const sampler = new ShuffleSampler({ labels, batchSize: 4, dropLast: true, seed: 0 });
  let without = 0;
  for (let b = 0; b < sampler.batchesPerEpoch; b++) {
    const ys = sampler.nextBatch().map((i) => labels[i]);
    if (new Set(ys).size === ys.length) without++;
  }
  return { without, total: sampler.batchesPerEpoch };
}

test('train --loss triplet --sampler shuffle on 2 images per class: exit 0, batches without a triplet counted', async () => {
  const root = join(dir, 'data');
  await writeImageFolder(root, 40, 2, { size: 36 });
  const out = join(dir, 'out');
  const args = [
    'train',
    '--dataset',
    'folder',
    '--root',
    root,
    '--arch',
    'resnet18',
    '--dim',
    '64',
    '--loss',
    'triplet',
    '--sampler',
    'shuffle',
    '--batch-size',
    '4',
    '--resize',
    '36',
    '--crop',
    '32',
    '--warmup-epochs',
    '0',
    '--epochs-per-step',
    '1',
    '--num-steps',
    '1',
    '--workers',
    '1',
    '--out',
    out,
  ];
  const r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
  const { without, total } = batchesWithoutPair();
  assert.ok(without > 0, 'the seed gives batches without a positive pair');
  assert.match(r.stderr, new RegExp(`epoch 1: ${without} of ${total} batches had no valid triplet \\(zero loss\\)`));
  assert.doesNotMatch(r.stderr, /diverged|internal error/);
  const epochs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((rec) => rec.type === 'epoch');
  assert.equal(epochs.length, 1);
  assert.equal(epochs[0].emptyBatches, without);
  assert.equal(epochs[0].skippedBatches, 0);
  assert.ok(Number.isFinite(epochs[0].loss));
});
