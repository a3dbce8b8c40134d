// Mismatches found at start instead of a timeout: ranks started with different world sizes or
// settings stop at once naming both ranks and the values; a torchrun of another PyTorch release is
// refused before its store is opened (the decision, with injected versions).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { commandSettings, describeJobMismatch, jobView } from '../../src/parallel/agreement.js';
import { checkTorchrunRelease } from '../../src/parallel/torch-release.js';
import { distributedUnavailableReason } from '../../src/tensor/process-group.js';
import { needsInstalled } from '../helpers/skip.js';
import { freePort, RANK_SCRIPT, rankEnv, waitExit } from './helpers.js';

const skip = needsInstalled(distributedUnavailableReason());

test('a view lists WORLD_SIZE first and the set values, without separators inside values', () => {
  assert.equal(
    jobView(2, { 'batch-size': 100, arch: 'small cnn|x', seed: undefined }),
    'WORLD_SIZE=2 batch-size=100 arch=small_cnn_x',
  );
});

test('a mismatch names both ranks and every differing value', () => {
  const line = describeJobMismatch(
    'job mismatch|1|WORLD_SIZE=3 batch-size=100 dim=8|0|WORLD_SIZE=2 batch-size=50 dim=8',
  );
  assert.equal(
    line,
    'rank 1 and rank 0 were started differently (WORLD_SIZE 3 vs 2, batch-size 100 vs 50): every rank must get the same WORLD_SIZE and the same command',
  );
  assert.equal(describeJobMismatch('Connection refused'), null);
});

test('the agreed flags are read from a command line, both --flag v and --flag=v', () => {
  assert.deepEqual(
    commandSettings([
      'train',
      '--dataset',
      'fashion-mnist',
      '--batch-size=100',
      '--threads',
      '1',
      '--out',
      'x',
      '--dim',
      '8',
    ]),
    { command: 'train', dataset: 'fashion-mnist', 'batch-size': '100', dim: '8' },
  );
});

test('torchrun from another major release is refused, another minor one is warned about', () => {
  assert.equal(
    checkTorchrunRelease('2.1.0+cpu', '1.13.0').error,
    'torchrun from PyTorch 2.1.0+cpu with normsoftmax built on libtorch 1.13.0: use torchrun from the same release',
  );
  assert.equal(checkTorchrunRelease('1.13.0', '2.3.1').error?.startsWith('torchrun from PyTorch 1.13.0 with'), true);
  const minor = checkTorchrunRelease('2.2.0', '2.3.1');
  assert.equal(minor.error, null);
  assert.match(
    minor.warning ?? '',
    /^warning: torchrun from PyTorch 2\.2\.0 with normsoftmax built on libtorch 2\.3\.1/,
  );
  assert.deepEqual(checkTorchrunRelease('1.13.0a0+gitunknown', '1.13.0'), { error: null, warning: null });
  assert.deepEqual(checkTorchrunRelease(null, '1.13.0'), { error: null, warning: null });
});

async function twoRanks(env0: Record<string, string>, env1: Record<string, string>) {
  const port = await freePort();
  const started = Date.now();
  const run = (rank: number, extra: Record<string, string>) =>
    waitExit(
      spawn(process.execPath, ['--import', 'tsx', RANK_SCRIPT, 'collectives'], {
        env: { ...rankEnv(rank, 2, port, { TEST_DIST_TIMEOUT: '60' }), ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      started,
    );
  return Promise.all([run(0, env0), run(1, env1)]);
}

test('ranks started with different world sizes stop at start, naming the ranks and sizes', { skip }, async () => {
  const exits = await twoRanks({}, { WORLD_SIZE: '3' });
  for (const [rank, e] of exits.entries()) {
    assert.equal(e.code, 1, e.stderr);
    assert.match(
      e.stderr,
      new RegExp(`rank ${rank}: rank [01] and rank [01] were started differently \\(WORLD_SIZE [23] vs [23]\\)`),
    );
    // at start, far from the 60 s timeout
    assert.ok(e.ms < 30_000, `rank ${rank} took ${e.ms} ms`);
  }
});

test('ranks started with different settings stop at start, naming the values', { skip }, async () => {
  const exits = await twoRanks({ TEST_DIST_SETTING: 'a' }, { TEST_DIST_SETTING: 'b' });
  for (const e of exits) {
    assert.equal(e.code, 1, e.stderr);
    assert.match(e.stderr, /were started differently \(setting [ab] vs [ab]\)/);
    assert.ok(e.ms < 30_000, `took ${e.ms} ms`);
  }
});
