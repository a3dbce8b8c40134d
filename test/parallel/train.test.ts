// A 2-rank training run of the small CNN (BatchNorm in train mode, buffers from rank 0 before each
// forward) ends with identical parameters on both ranks, and rank 0 evaluates and writes the checkpoint.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { evaluateModel } from '../../src/embed/evaluate-model.js';
import { loadModel } from '../../src/embed/load-model.js';
import { distributedUnavailableReason } from '../../src/tensor/process-group.js';
import { runSession } from '../../src/train/session.js';
import { InputError } from '../../src/util/errors.js';
import { needsInstalled } from '../helpers/skip.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { type TinyResult, tinyConfig } from './fixtures/train-tiny.js';
import { parseResult, runRanks } from './helpers.js';

const skip = needsInstalled(distributedUnavailableReason());
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('two ranks train the small CNN to identical weights, share the evaluation, rank 0 checkpoints', {
  skip,
}, async () => {
  const out = mkdtempSync(join(tmpdir(), 'normsoftmax-dist-train-'));
  dirs.push(out);
  const exits = await runRanks(2, ['train', out]);
  const [r0, r1] = exits.map((e) => parseResult<TinyResult>(e)) as [TinyResult, TinyResult];
  // Parameters are equal on every rank after every step. BatchNorm's running statistics are not (as
  // in DDP): each rank updates them from its own slice in the forward after rank 0's were broadcast.
  const names = Object.keys(r0.weights).filter((n) => !/running_(mean|var)$/.test(n));
  assert.ok(names.length >= 8, names.join());
  for (const name of names) assert.deepEqual(r1.weights[name], r0.weights[name], `${name} differs between ranks`);
  assert.equal(typeof r0.recallAt1, 'number', 'rank 0 evaluated');
  assert.equal(r1.recallAt1, null, 'rank 1 did not evaluate');
  assert.ok(existsSync(join(out, 'last.safetensors')));
  assert.ok(existsSync(join(out, 'metrics.jsonl')));

  // the two ranks' shared embedding of the test images gives rank 0 the metrics one process gets
  // from rank 0's checkpoint
  const loaded = loadModel(join(out, 'last.safetensors'));
  const alone = await evaluateModel(loaded.model, syntheticDataset(), tinyConfig(out), { silent: true });
  loaded.model.dispose();
  assert.deepEqual(r0.recall, alone.float.recall);

  // its checkpoint records the world size: one process refuses to resume it unless told to
  const ckpt = join(out, 'last.safetensors');
  const resume = (allowWorldSizeChange: boolean) =>
    runSession(tinyConfig(out), { dataset: syntheticDataset(), silent: true, resume: ckpt, allowWorldSizeChange });
  await assert.rejects(
    resume(false),
    (e) =>
      e instanceof InputError &&
      /written by 2 process\(es\), this run has 1; --allow-world-size-change/.test(e.message),
  );
  const resumed = await resume(true);
  assert.equal(resumed.state.epochsDone, 2);
  resumed.model.dispose();
  assert.ok(
    exits.every((e) => e.stderr.trim() === ''),
    exits.map((e) => e.stderr).join('\n'),
  );
});
