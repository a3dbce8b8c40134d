// The loader's concurrency bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Limiter } from '../../src/data/loader/limiter.js';

test('Limiter runs at most `limit` tasks at once, in arrival order, and survives failures', async () => {
  const limiter = new Limiter(3);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const releases: (() => void)[] = [];
  const tasks = Array.from({ length: 8 }, (_, i) =>
    limiter.run(async () => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      if (i === 4) throw new Error('task 4 failed');
      return i;
    }),
  );
  const all = Promise.allSettled(tasks);
  while (started.length < 8 || releases.length > 0) {
    await new Promise((r) => setImmediate(r));
    assert.ok(running <= 3, `${running} running`);
    releases.shift()?.();
  }
  const settled = await all;
  assert.equal(peak, 3);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(
    settled.map((s) => s.status),
    ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
  );
  assert.equal(limiter.running, 0);
  assert.throws(() => new Limiter(0), /limit must be >= 1/);
});
