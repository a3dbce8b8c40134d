// A training session holds the writer lock of its OUT folder (two trainings into one folder would mix
// checkpoints and metrics): a second one is refused before it trains, and the lock is gone afterwards.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { acquireWriterLock, LockHeldError, readWriterLock } from '../../src/io/writer-lock.js';
import { runSession } from '../../src/train/session.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { tinyTrainConfig } from '../helpers/tiny-train-config.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-out-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('train --out: refused while another writer holds the folder; holds the lock while it runs', async () => {
  const out = join(dir, 'run');
  const config = tinyTrainConfig({ out, warmupEpochs: 0, numSteps: 1, maxBatchesPerEpoch: 2, k: [1] });
  const other = acquireWriterLock(out, 'train');
  await assert.rejects(
    runSession(config, { dataset: syntheticDataset(), silent: true }),
    (e: Error) => e instanceof LockHeldError && e.message.includes(`pid ${process.pid} (train,`),
  );
  assert.equal(existsSync(join(out, 'metrics.jsonl')), false, 'nothing written');
  other.release();

  const seen: (number | undefined)[] = [];
  const result = await runSession(config, {
    dataset: syntheticDataset(),
    silent: true,
    log: () => seen.push(readWriterLock(out)?.pid),
  });
  result.model.dispose();
  assert.ok(seen.length > 0 && seen.every((pid) => pid === process.pid), `lock holders seen: ${seen}`);
  assert.equal(readWriterLock(out), null);
  assert.ok(existsSync(join(out, 'last.safetensors')));
});
