// The pure parts of src/parallel: torchrun's environment, bucket plans, batch slices, the launcher's argv.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readDistEnv } from '../../src/parallel/env.js';
import { planBuckets } from '../../src/parallel/grad-buckets.js';
import { stripLauncherFlags } from '../../src/parallel/launcher.js';
import { failedRanks } from '../../src/parallel/liveness.js';
import { describeCollectiveFailure } from '../../src/parallel/open-group.js';
import { shardBatch } from '../../src/parallel/shard.js';
import { UsageError } from '../../src/util/errors.js';

test('readDistEnv reads torchrun variables; none without WORLD_SIZE; bad values are usage errors', () => {
  assert.equal(readDistEnv({}), null);
  const env = readDistEnv({
    RANK: '3',
    WORLD_SIZE: '4',
    LOCAL_RANK: '1',
    LOCAL_WORLD_SIZE: '2',
    MASTER_ADDR: 'node0',
    MASTER_PORT: '29400',
    TORCHELASTIC_USE_AGENT_STORE: 'True',
    TORCHELASTIC_RESTART_COUNT: '2',
    GLOO_SOCKET_IFNAME: 'eth0',
  });
  assert.deepEqual(env, {
    rank: 3,
    worldSize: 4,
    localRank: 1,
    localWorldSize: 2,
    masterAddr: 'node0',
    masterPort: 29400,
    agentStore: true,
    restartCount: 2,
    ifname: 'eth0',
  });
  const base = { WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: 'h', MASTER_PORT: '1' };
  assert.equal(readDistEnv(base)?.agentStore, false);
  assert.throws(
    () => readDistEnv({ ...base, RANK: '2' }),
    (e) => e instanceof UsageError && /RANK=2/.test(e.message),
  );
  assert.throws(() => readDistEnv({ ...base, MASTER_PORT: '70000' }), /MASTER_PORT=70000/);
  assert.throws(() => readDistEnv({ ...base, MASTER_ADDR: '' }), /MASTER_ADDR/);
  assert.throws(() => readDistEnv({ WORLD_SIZE: '2' }), /RANK is not set/);
});

test('planBuckets fills buckets in reverse order up to the cap, a large tensor alone, one dtype each', () => {
  const f = (bytes: number, dtype = 'float32') => ({ bytes, dtype });
  assert.deepEqual(planBuckets([f(10), f(10), f(10), f(10)], 25), [
    [3, 2],
    [1, 0],
  ]);
  assert.deepEqual(planBuckets([f(5), f(100), f(5)], 25), [[2], [1], [0]]);
  assert.deepEqual(planBuckets([f(4), f(4, 'float64'), f(4)], 100), [[2], [1], [0]]);
  assert.deepEqual(planBuckets([], 25), []);
});

test('shardBatch gives rank r the r-th contiguous slice; uneven batches are refused', () => {
  const batch = [10, 11, 12, 13, 14, 15];
  assert.deepEqual(shardBatch(batch, 0, 2), [10, 11, 12]);
  assert.deepEqual(shardBatch(batch, 1, 2), [13, 14, 15]);
  assert.deepEqual(shardBatch(batch, 2, 3), [14, 15]);
  assert.throws(() => shardBatch(batch, 0, 4), /cannot be split evenly across 4 ranks/);
});

test('the ranks run the command without the launcher flags (both --flag v and --flag=v)', () => {
  assert.deepEqual(
    stripLauncherFlags([
      'train',
      '--nproc-per-node',
      '2',
      '--lr',
      '0.1',
      '--master-port=29501',
      '--nnodes',
      '1',
      '--dist-timeout',
      '30',
    ]),
    ['train', '--lr', '0.1', '--dist-timeout', '30'],
  );
});

test('the heartbeats blame a rank whose beat stood still or that never entered the collective', () => {
  // rank 0 reads: rank 1's beat stood still (died), rank 2 is stopping too (a survivor), rank 3 beats
  // but entered fewer collectives (hung before this one), rank 4 is fine
  const before = ['alive 5 10', 'alive 5 7', 'alive 5 9', 'alive 4 8', 'alive 5 3'];
  const after = ['stopping 5 12', 'alive 5 7', 'stopping 5 11', 'alive 4 10', 'alive 5 5'];
  assert.deepEqual(failedRanks(0, 5, before, after), [1, 3]);
  // a heartbeat that cannot be read counts as failed; one never written before but seen after does not
  assert.deepEqual(failedRanks(2, 1, [null, 'alive 1 1', 'alive 1 1'], [null, 'alive 1 3', 'stopping 1 2']), [0]);
  assert.deepEqual(failedRanks(1, 1, ['alive 1 1', null, null], ['alive 1 2', 'stopping 1 2', 'alive 1 1']), []);
});

test('a collective failure names the blamed ranks in a job of more than two', () => {
  const closed = 'Connection closed by peer [127.0.0.1]:40001';
  assert.equal(
    describeCollectiveFailure(0, 3, 'the gradient allreduce', closed, [2]),
    'rank 0: rank 2 went away during the gradient allreduce (Connection closed by peer [127.0.0.1]:40001); stopping',
  );
  assert.match(describeCollectiveFailure(0, 4, 'a barrier', closed, [1, 3]), /^rank 0: ranks 1, 3 went away/);
  assert.match(describeCollectiveFailure(0, 4, 'a barrier', closed), /^rank 0: a peer rank went away/);
});
