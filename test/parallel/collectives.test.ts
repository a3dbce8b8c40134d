// The c10d binding on loopback: two normsoftmax ranks agree on allreduce, broadcast, allgather and a
// barrier; two ranks' averaged gradients equal one process's on the global batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distributedUnavailableReason } from '../../src/tensor/process-group.js';
import { needsInstalled } from '../helpers/skip.js';
import { gradientStep, type StepResult } from './fixtures/grad-step.js';
import { parseResult, runRanks } from './helpers.js';

const skip = needsInstalled(distributedUnavailableReason());

test('two ranks agree on allreduce (sum), broadcast from rank 0, allgather and a barrier; the rendezvous does not block the event loop', {
  skip,
}, async () => {
  const exits = await runRanks(2, ['collectives']);
  for (const [rank, exit] of exits.entries()) {
    const r = parseResult<{ sum: number[]; broadcast: number[]; gathered: number[][]; ticksDuringJoin: number }>(exit);
    // rank 1 joined a second late: rank 0's 10 ms timer kept firing while it waited for it
    if (rank === 0) assert.ok(r.ticksDuringJoin >= 30, `only ${r.ticksDuringJoin} timer ticks during the rendezvous`);
    assert.deepEqual(r.sum, [3, 30]);
    assert.deepEqual(r.broadcast, [42, 7]);
    assert.deepEqual(r.gathered, [
      [0, 0],
      [1, -1],
    ]);
  }
});

test("the start broadcast gives rank 1 rank 0's channels_last weights, still channels_last", { skip }, async () => {
  const exits = await runRanks(2, ['start-channels-last']);
  for (const exit of exits) {
    const r = parseResult<{ weight: number[]; channelsLast: boolean; bias: number[] }>(exit);
    assert.deepEqual(
      r.weight,
      Array.from({ length: 24 }, (_, i) => i),
    );
    assert.equal(r.channelsLast, true);
    assert.deepEqual(r.bias, [5, 6]);
  }
});

test('two ranks average to the gradients of one process on the global batch', { skip }, async () => {
  const single = await gradientStep();
  const exits = await runRanks(2, ['grad']);
  const ranks = exits.map((e) => parseResult<StepResult>(e));
  assert.ok(single.grads.length >= 5, 'the model has parameters with gradients');
  for (const r of ranks) {
    assert.deepEqual(r.classes, single.classes);
    assert.ok(Math.abs(r.loss - single.loss) < 1e-5, `loss ${r.loss} vs ${single.loss}`);
    assert.equal(r.grads.length, single.grads.length);
    r.grads.forEach((g, i) => {
      const want = single.grads[i] as number[];
      assert.equal(g.length, want.length);
      const scale = Math.max(1e-6, ...want.map(Math.abs));
      const worst = Math.max(...g.map((v, j) => Math.abs(v - (want[j] as number))));
      assert.ok(worst <= 1e-4 * scale, `gradient ${i}: max difference ${worst} (scale ${scale})`);
    });
  }
  // the two ranks hold bit-identical averages (both summed the same buckets)
  assert.deepEqual(ranks[0]?.grads, ranks[1]?.grads);
});
