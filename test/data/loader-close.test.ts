// Closing the decode pool while images are in flight must settle everything: the jobs reject and close()
// resolves. It once hung when a worker's reply, queued while the main thread was busy (a training step),
// arrived after terminate(): the reply unref'd the worker, the event loop emptied before the exit event,
// and the process ended with code 13 and no output (an error on the way out was never printed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../helpers/cli.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

const src = (p: string) => JSON.stringify(pathToFileURL(join(REPO_ROOT, 'src', p)).href);

const CHILD = `
import { augmentDraws } from ${src('data/image/augment.ts')};
import { DecodePool } from ${src('data/loader/worker-pool.ts')};
const config = { resize: { width: 40, height: 36 }, crop: { width: 32, height: 28 }, flipProbability: 0.5,
  colorOrder: 'RGB', range: 1, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const pool = new DecodePool(2, 2);
const job = (i) => pool.run(${JSON.stringify(join(GOLDEN_DIR, 'pipeline'))} + (i % 2 ? '/large.jpg' : '/photo.jpg'),
  { config, mode: 'train', draws: augmentDraws({ seed: 0, epoch: 0, batch: 0, position: i }), keepResized: false });
await Promise.all([0, 1].map(job));
const settled = Promise.allSettled([0, 1, 2, 3].map(job));
const until = Date.now() + 600;
while (Date.now() < until) {} // the main thread busy while the workers finish and reply
await pool.close();
const outcomes = await settled;
console.log('closed', outcomes.map((o) => o.status === 'rejected' ? o.reason.message : 'ok').join(','));
`;

test('closing the decode pool while its replies are queued settles the jobs and close() (no silent exit 13)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-pool-close-'));
  const script = join(dir, 'child.mjs');
  writeFileSync(script, CHILD);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    env: { ...process.env, NORMSOFTMAX_THREADS: '1' },
    timeout: 60_000,
  });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  assert.equal(
    r.stdout.trim(),
    'closed decode pool is closed,decode pool is closed,decode pool is closed,decode pool is closed',
  );
});
