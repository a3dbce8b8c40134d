// The worker supervisor: a thread that dies fails the calls in flight (WorkerExitError), is started and
// initialised again, and serves the next call; a thread that keeps dying is given up on; a first start that
// fails is reported, not restarted; calls made during a restart wait for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { FailureError } from '../../src/util/errors.js';
import { type Settled, SupervisedWorker, WorkerExitError } from '../../src/util/supervised-worker.js';

const ECHO = new URL('../helpers/echo-worker.mjs', import.meta.url);

function settle(m: unknown): Settled | undefined {
  const r = m as { id: number; ok: boolean; value?: unknown; message?: string };
  return r.ok ? { id: r.id, value: r.value } : { id: r.id, error: new FailureError(r.message ?? '?') };
}

function echo(o: { maxRestarts?: number; failStart?: boolean; log?: string[]; inits?: number[] } = {}) {
  let starts = 0;
  return new SupervisedWorker({
    name: 'echo worker',
    create: (restart) => {
      starts++;
      return new Worker(ECHO, {
        workerData: { failStart: o.failStart === true },
        env: { ECHO_FAULT: String(restart) },
      });
    },
    settle,
    handshake: true,
    init: async (call) => {
      o.inits?.push(starts);
      await call({ op: 'init' });
    },
    log: (line) => o.log?.push(line),
    maxRestarts: o.maxRestarts,
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'not reached within 5 s');
}

test('a thread that dies: calls in flight fail, the thread is started and initialised again, the next call works', async () => {
  const log: string[] = [];
  const inits: number[] = [];
  const w = echo({ log, inits });
  try {
    await w.started;
    assert.deepEqual(w.readyValue, { started: (w.readyValue as { started: number }).started, env: 'false' });
    assert.deepEqual(w.health(), { state: 'ok', restarts: 0, lastExit: null });
    const first = (await w.call({ op: 'hello' })) as { started: number };
    const inFlight = w.call({ op: 'wait' });
    await assert.rejects(w.call({ op: 'crash' }), (e: unknown) => {
      assert.ok(e instanceof WorkerExitError);
      assert.equal(e.message, 'the echo worker exited (code 7)');
      return true;
    });
    await assert.rejects(inFlight, WorkerExitError, 'the call in flight fails with the thread');
    assert.equal(w.health().state, 'restarting');
    // A call made while the thread restarts waits for it, and reaches the new thread.
    const after = (await w.call({ op: 'hello' })) as { started: number };
    assert.ok(after.started >= first.started);
    assert.deepEqual(w.health(), { state: 'ok', restarts: 1, lastExit: 'exited (code 7)' });
    assert.deepEqual(inits, [1, 2], 'init ran on both threads');
    assert.equal((w.readyValue as { env: string }).env, 'true', 'the restarted thread got the restart environment');
    assert.deepEqual(log, [
      'the echo worker exited (code 7): restarting it',
      'the echo worker is running again (restart 1)',
    ]);
    // An uncaught exception in the thread is a death too.
    await assert.rejects(w.call({ op: 'throw' }), /the echo worker failed: uncaught in worker/);
    await w.call({ op: 'hello' });
    assert.equal(w.health().restarts, 2);
  } finally {
    await w.close();
  }
});

test('a thread that keeps dying is given up on: every call then fails at once', async () => {
  const log: string[] = [];
  const w = echo({ maxRestarts: 2, log });
  try {
    await w.started;
    for (let i = 0; i < 3; i++) await assert.rejects(w.call({ op: 'crash' }), WorkerExitError);
    await until(() => w.health().state === 'failed');
    await assert.rejects(w.call({ op: 'hello' }), /restarted 2 times within 60 s: giving up/);
    assert.equal(w.health().restarts, 2);
    assert.match(log.at(-1) ?? '', /giving up$/);
  } finally {
    await w.close();
  }
});

test('a first start that fails is reported and not restarted', async () => {
  const log: string[] = [];
  const w = echo({ failStart: true, log });
  await assert.rejects(w.started, /cannot start: bad model/);
  assert.equal(w.health().state, 'failed');
  await assert.rejects(w.call({ op: 'hello' }), WorkerExitError);
  assert.deepEqual(log, []);
  await w.close();
});
