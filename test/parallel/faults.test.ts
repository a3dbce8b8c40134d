// Faults end a rank with one line naming the cause instead of c10d's 30-minute hang: a rank that
// dies or hangs, a master port in use, a master that never comes up.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { distributedUnavailableReason } from '../../src/tensor/process-group.js';
import { needsInstalled } from '../helpers/skip.js';
import { freePort, RANK_SCRIPT, rankEnv, runRanks, waitExit } from './helpers.js';

const skip = needsInstalled(distributedUnavailableReason());

test('a rank that dies makes the other exit non-zero at once, naming it', { skip }, async () => {
  const [r0, r1] = await runRanks(2, ['die'], { TEST_DIST_TIMEOUT: '30' });
  assert.equal(r1?.code, 9);
  assert.equal(r0?.code, 1, r0?.stderr);
  assert.match(r0?.stderr ?? '', /^rank 0: rank 1 went away during the gradient allreduce/m);
  assert.equal((r0?.stderr ?? '').trim().split('\n').length, 1, 'one line');
  // well within the 30 s timeout: a closed connection is seen at once
  assert.ok((r0?.ms ?? Infinity) < 25_000, `took ${r0?.ms} ms`);
});

test('in a job of three ranks, the survivors name the rank that died', { skip }, async () => {
  const [r0, r1, r2] = await runRanks(3, ['die'], { TEST_DIST_TIMEOUT: '30' });
  assert.equal(r1?.code, 9);
  for (const [rank, r] of [r0, r2].map((x, i) => [i * 2, x] as const)) {
    assert.equal(r?.code, 1, r?.stderr);
    assert.match(r?.stderr ?? '', new RegExp(`^rank ${rank}: rank 1 went away during the gradient allreduce`, 'm'));
    assert.ok((r?.ms ?? Infinity) < 25_000, `rank ${rank} took ${r?.ms} ms`);
  }
});

test('a rank that hangs makes the other stop after --dist-timeout, naming it', { skip }, async () => {
  // rank 1 sleeps 9 s between two collectives; rank 0 gives up after 3 s
  const [r0, r1] = await runRanks(2, ['hang'], { TEST_DIST_TIMEOUT: '3' });
  assert.equal(r0?.code, 1, r0?.stderr);
  assert.match(r0?.stderr ?? '', /^rank 0: rank 1 did not answer within --dist-timeout/m);
  assert.ok((r0?.ms ?? Infinity) + 5000 < (r1?.ms ?? 0), `rank 0 ${r0?.ms} ms, rank 1 ${r1?.ms} ms`);
});

test('a master port in use is reported at start', { skip }, async () => {
  const server = createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', RANK_SCRIPT, 'collectives'], {
      env: rankEnv(0, 2, port, { TEST_DIST_TIMEOUT: '10' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exit = await waitExit(child, Date.now());
    assert.equal(exit.code, 1);
    assert.match(exit.stderr, new RegExp(`rank 0: the master port 127\\.0\\.0\\.1:${port} is in use`));
  } finally {
    server.close();
  }
});

test('a master that never comes up is reported after --dist-timeout', { skip }, async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', RANK_SCRIPT, 'collectives'], {
    env: rankEnv(1, 2, port, { TEST_DIST_TIMEOUT: '3' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = await waitExit(child, Date.now());
  assert.equal(exit.code, 1);
  assert.match(exit.stderr, new RegExp(`rank 1: .*127\\.0\\.0\\.1:${port}`));
  assert.ok(exit.ms < 20_000, `took ${exit.ms} ms`);
});
