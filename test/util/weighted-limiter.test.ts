// The weighted limiter bounds the total weight of running tasks, runs an over-heavy task alone, starts
// waiters in arrival order, and gives the weight back when a task fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WeightedLimiter } from '../../src/util/weighted-limiter.js';

/** A task that records what ran alongside it and finishes when its gate opens. */
function harness(limiter: WeightedLimiter) {
  const log: string[] = [];
  const gates = new Map<string, () => void>();
  let peak = 0;
  const task = (name: string, weight: number) =>
    limiter.run(weight, async () => {
      log.push(`start ${name}`);
      peak = Math.max(peak, limiter.inUse);
      await new Promise<void>((r) => gates.set(name, r));
      log.push(`end ${name}`);
      return name;
    });
  const open = async (name: string) => {
    for (let i = 0; i < 100 && !gates.has(name); i++) await new Promise((r) => setImmediate(r));
    const gate = gates.get(name);
    assert.ok(gate, `${name} never started`);
    gate();
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { log, task, open, peak: () => peak };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

test('tasks run together while their weights fit; the next waits for room', async () => {
  const limiter = new WeightedLimiter(10);
  const h = harness(limiter);
  const all = [h.task('a', 4), h.task('b', 4), h.task('c', 4)];
  await settle();
  assert.deepEqual(h.log, ['start a', 'start b']);
  assert.equal(limiter.inUse, 8);
  await h.open('b');
  assert.deepEqual(h.log, ['start a', 'start b', 'end b', 'start c']);
  await h.open('a');
  await h.open('c');
  assert.deepEqual(await Promise.all(all), ['a', 'b', 'c']);
  assert.equal(h.peak(), 8);
  assert.equal(limiter.inUse, 0);
});

test('a task heavier than the capacity waits for an empty limiter and then runs alone', async () => {
  const limiter = new WeightedLimiter(10);
  const h = harness(limiter);
  const all = [h.task('small', 2), h.task('huge', 49), h.task('later', 1)];
  await settle();
  // 'later' would fit beside 'small', but it arrived after the waiting 'huge': no overtaking
  assert.deepEqual(h.log, ['start small']);
  await h.open('small');
  assert.deepEqual(h.log, ['start small', 'end small', 'start huge']);
  assert.equal(limiter.inUse, 49);
  await h.open('huge');
  await h.open('later');
  await Promise.all(all);
  assert.deepEqual(h.log, ['start small', 'end small', 'start huge', 'end huge', 'start later', 'end later']);
});

test('a newcomer does not take the room of a waiter started by a finishing task', async () => {
  const limiter = new WeightedLimiter(10);
  const h = harness(limiter);
  const first = [h.task('a', 6), h.task('b', 6)];
  await settle();
  await h.open('a');
  // 'b' holds 6 now; 'c' (6) must wait although 'b' has not run a tick yet
  const c = h.task('c', 6);
  await settle();
  assert.deepEqual(h.log, ['start a', 'end a', 'start b']);
  await h.open('b');
  await h.open('c');
  await Promise.all([...first, c]);
  assert.equal(h.peak(), 6);
});

test('a failing task gives its weight back; bad weights and capacities are refused', async () => {
  const limiter = new WeightedLimiter(5);
  await assert.rejects(
    limiter.run(5, () => {
      throw new Error('decode failed');
    }),
    /decode failed/,
  );
  assert.equal(limiter.inUse, 0);
  assert.equal(await limiter.run(5, () => 'next'), 'next');
  await assert.rejects(
    limiter.run(-1, () => 0),
    RangeError,
  );
  await assert.rejects(
    limiter.run(Number.NaN, () => 0),
    RangeError,
  );
  assert.throws(() => new WeightedLimiter(0), RangeError);
  assert.equal(limiter.inUse, 0);
});
