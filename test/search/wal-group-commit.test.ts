// Group commit in the write-ahead log, with the fdatasync counted and slowed (an injected hook): writes
// appended together share one; writes that arrive while one is in flight share the next (N writes behind a
// slow first one: 2 in all); clients that each wait for their answer before writing again (8 of them, as the
// live benchmark's) share one per round instead of splitting into two cohorts that take turns; a lone writer
// is not held back waiting for others; no write is answered before its batch's fdatasync has returned. And
// on disk: `serve --writable` SIGKILLed while 8 such clients write, every answered write is there after.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { acquireWriterLock } from '../../src/io/writer-lock.js';
import { readWal, WalWriter } from '../../src/search/live/wal.js';
import type { LiveWrite } from '../../src/search/live/wal-format.js';
import { openIndex } from '../../src/search/open-index.js';
import { ServeProcess } from '../helpers/serve-process.js';
import { randomUnit, write } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-group-commit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const DIM = 4;
const put = (id: string): LiveWrite => ({
  kind: 'put',
  item: { id, path: null, label: null, size: null, hash: null },
  vector: Float32Array.from([1, 0, 0, 0]),
});

/** A log whose fdatasync takes `ms` and is counted; `durable` holds the seqs whose fdatasync returned. */
async function slowLog(name: string, ms: number) {
  const counter = { syncs: 0, inFlight: false, durableThrough: 0, written: 0 };
  let appended = 0;
  const w = await WalWriter.open(
    join(dir, name),
    { lastSeq: 0, segments: [] },
    {
      onDurable: () => {},
      datasync: async (fh: FileHandle) => {
        counter.syncs++;
        counter.inFlight = true;
        const through = appended;
        await fh.datasync();
        await new Promise((r) => setTimeout(r, ms));
        counter.inFlight = false;
        counter.durableThrough = through;
      },
    },
  );
  const append = async (id: string) => {
    const p = w.append(put(id));
    appended++;
    const op = await p;
    // Never answered before the fdatasync of its batch returned.
    assert.ok(op.seq <= counter.durableThrough, `${id} (record ${op.seq}) answered before it was durable`);
    return op;
  };
  return { w, counter, append };
}

test('writes appended together share one fdatasync; those arriving during one share the next', async () => {
  const a = await slowLog('together', 5);
  await Promise.all(Array.from({ length: 16 }, (_, i) => a.append(`t${i}`)));
  assert.equal(a.counter.syncs, 1, 'sixteen writes appended in one turn: one fdatasync');
  await a.w.close();

  const b = await slowLog('behind', 40);
  const first = b.append('first');
  while (!b.counter.inFlight) await new Promise((r) => setImmediate(r));
  // Sixteen more, one per turn of the event loop, while the first's fdatasync is in flight.
  const rest: Promise<unknown>[] = [];
  for (let i = 0; i < 16; i++) {
    rest.push(b.append(`r${i}`));
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(b.counter.inFlight, 'the slow fdatasync still in flight');
  await Promise.all([first, ...rest]);
  assert.equal(b.counter.syncs, 2, '1 + 16 writes: two fdatasyncs');
  assert.equal(b.w.batches, 2);
  await b.w.close();
  assert.equal(readWal(join(dir, 'behind'), 0, DIM).ops.length, 17);
});

test('8 clients that wait for their answer share one fdatasync a round, not two cohorts', async () => {
  const clients = 8;
  const rounds = 12;
  const { w, counter, append } = await slowLog('cohorts', 20);
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let r = 0; r < rounds; r++) {
        await append(`c${c}-${r}`);
        // The client's turnaround (reading the answer, sending the next request), a little different for each.
        await new Promise((res) => setTimeout(res, 2 + (c % 3)));
      }
    }),
  );
  await w.close();
  // Two cohorts taking turns need about 2 x 12 = 24; one batch a round, 12 (and a straggler or two).
  assert.ok(counter.syncs <= rounds + 3, `${counter.syncs} fdatasyncs for ${clients} x ${rounds} writes`);
  assert.equal(readWal(join(dir, 'cohorts'), 0, DIM).ops.length, clients * rounds);

  // A lone writer: one fdatasync per write (it waits for nobody, and nobody waits for it).
  const lone = await slowLog('lone', 10);
  for (let i = 0; i < 6; i++) await lone.append(`l${i}`);
  assert.equal(lone.counter.syncs, 6, 'one fdatasync per write for a lone writer');
  await lone.w.close();
});

test('serve --writable SIGKILLed while 8 clients write in turn: every answered write is on disk', async () => {
  const TOKEN = 'group-commit-token-0123456789';
  const idx = join(dir, 'serve');
  await write(idx, randomUnit(8, DIM, 3), DIM);
  const { serve, base } = await ServeProcess.start(idx, ['--writable'], { NORMSOFTMAX_WRITE_TOKEN: TOKEN });
  const vectors = randomUnit(400, DIM, 4);
  const answered = new Map<string, number[]>();
  let next = 0;
  let stop = false;
  const client = async () => {
    while (!stop) {
      const i = next++;
      const vector = Array.from(vectors.subarray((i % 400) * DIM, ((i % 400) + 1) * DIM));
      try {
        const r = await fetch(`${base}/api/items/w${i}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ vector }),
        });
        await r.arrayBuffer();
        assert.equal(r.status, 201);
        answered.set(`w${i}`, vector);
      } catch (e) {
        if (e instanceof TypeError && /fetch failed/.test(e.message)) return; // killed: not answered
        throw e;
      }
      if (answered.size >= 120 && !stop) {
        stop = true;
        serve.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, client));
  if (serve.child.exitCode === null && serve.child.signalCode === null)
    await new Promise((r) => serve.child.on('exit', r));
  assert.equal(serve.child.signalCode, 'SIGKILL');
  assert.ok(answered.size >= 120, `${answered.size} writes answered`);
  const lock = acquireWriterLock(idx, 'test');
  const index = await openIndex(idx, { writer: { lock }, log: () => {} });
  try {
    for (const [id, vector] of answered) {
      const got = index.vectorOf(id);
      assert.ok(got, `${id} was answered, so it is on disk`);
      const norm = Math.hypot(...vector);
      assert.ok(
        vector.every((x, j) => Math.abs(x / norm - (got[j] as number)) < 1e-6),
        `${id}: its vector`,
      );
    }
  } finally {
    await index.close();
    lock.release();
  }
});
