// `normsoftmax serve --writable` SIGKILLed while it writes (NORMSOFTMAX_FAULT at the log's fault points and at
// the compaction's, or a plain SIGKILL from outside), then the index opened again, both backends: every write
// the server answered is there (a put with its vector and fields, a delete gone, also from search), a write it
// did not answer is there whole or not at all, a read-only opener and a writable one agree, and a compaction
// after the restart keeps the same answers. Also the flags: --writable without a token is a usage error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { acquireWriterLock } from '../../src/io/writer-lock.js';
import { openIndex } from '../../src/search/open-index.js';
import type { IndexBackend, VisualSearchIndex } from '../../src/search/types.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { ServeProcess } from '../helpers/serve-process.js';
import { randomUnit, writeBackend } from './helpers.js';

process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false';
const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-crash-live-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'crash-test-token-0123456789';
const DIM = 8;
const N = 16;
const base = randomUnit(N, DIM, 21);
const fresh = randomUnit(200, DIM, 22);
const vec = (v: Float32Array, r: number) => Array.from(v.slice(r * DIM, (r + 1) * DIM));

async function buildIndex(backend: IndexBackend, idx: string): Promise<void> {
  await writeBackend(backend, idx, base, DIM);
}

/** What an id holds: a vector and a label, or nothing (deleted / never put). */
type State = { vector: number[]; label: string } | null;
type Op = { id: string; state: State };

/** Waves of 4 writes to distinct ids: new items, replaced base items, deletes of base and of new items. */
function workload(): Op[][] {
  const waves: Op[][] = [];
  let f = 0;
  for (let w = 0; w < 40; w++) {
    const wave: Op[] = [];
    for (let j = 0; j < 4; j++) {
      const kind = (w * 4 + j) % 5;
      if (kind <= 1) wave.push({ id: `new${w}-${j}`, state: { vector: vec(fresh, f++ % 200), label: `w${w}` } });
      else if (kind === 2)
        wave.push({ id: `item${(w + j) % N}`, state: { vector: vec(fresh, f++ % 200), label: `r${w}` } });
      else if (kind === 3) wave.push({ id: `item${(w * 3 + j) % N}`, state: null });
      else wave.push({ id: `new${Math.max(0, w - 2)}-0`, state: null });
    }
    // Distinct ids within a wave: the order of two writes of one id in flight together is not the test's.
    const seen = new Set<string>();
    waves.push(wave.filter((o) => !seen.has(o.id) && seen.add(o.id)));
  }
  return waves;
}

interface Outcome {
  /** After the answered writes. */
  known: Map<string, State>;
  /** Ids whose write was sent but not answered, with the state before and after it. */
  open: Map<string, [State, State]>;
}

async function send(base: string, op: Op): Promise<boolean> {
  const url = `${base}/api/items/${encodeURIComponent(op.id)}`;
  const authorization = `Bearer ${TOKEN}`;
  const r = op.state
    ? await fetch(url, {
        method: 'PUT',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ vector: op.state.vector, label: op.state.label }),
      })
    : await fetch(url, { method: 'DELETE', headers: { authorization } });
  if (op.state) assert.ok(r.status === 200 || r.status === 201, `${op.id}: ${r.status} ${await r.text()}`);
  else assert.ok(r.status === 200 || r.status === 404, `${op.id}: ${r.status} ${await r.text()}`);
  await r.arrayBuffer().catch(() => undefined);
  return true;
}

/** A write the server did not answer (its connection closed by the kill); anything else fails the test. */
function unanswered(e: unknown): false {
  if (e instanceof TypeError && /fetch failed/.test(e.message)) return false;
  throw e;
}

/** Runs the waves until the server dies (or `killAfter` answered waves, then SIGKILL from outside). */
async function drive(serve: ServeProcess, url: string, killAfter: number | null, waitFor?: RegExp): Promise<Outcome> {
  const known = new Map<string, State>();
  for (let r = 0; r < N; r++) known.set(`item${r}`, { vector: vec(base, r), label: `c${r % 3}` });
  const open = new Map<string, [State, State]>();
  for (const [w, wave] of workload().entries()) {
    if (killAfter !== null && w === killAfter) {
      for (let i = 0; waitFor && !waitFor.test(serve.log) && i < 300; i++) await new Promise((r) => setTimeout(r, 100));
      // Kill while a wave is in flight.
      const inflight = wave.map((op) => send(url, op).catch(unanswered));
      serve.child.kill('SIGKILL');
      const done = await Promise.all(inflight);
      for (const [i, op] of wave.entries()) {
        if (done[i]) known.set(op.id, op.state);
        else open.set(op.id, [known.get(op.id) ?? null, op.state]);
      }
      break;
    }
    const done = await Promise.all(wave.map((op) => send(url, op).catch(unanswered)));
    for (const [i, op] of wave.entries()) {
      if (done[i]) known.set(op.id, op.state);
      else open.set(op.id, [known.get(op.id) ?? null, op.state]);
    }
    if (done.includes(false)) break;
  }
  const exited = serve.child.exitCode !== null || serve.child.signalCode !== null;
  if (!exited) {
    // Every write answered and the fault never reached: not the test's intent (the assertion below says so).
    const gone = new Promise((r) => serve.child.on('exit', r));
    const t = setTimeout(() => serve.child.kill('SIGTERM'), 2000);
    await gone;
    clearTimeout(t);
  }
  for (const id of open.keys()) known.delete(id);
  return { known, open };
}

const same = (a: ArrayLike<number> | undefined, b: readonly number[]) =>
  a !== undefined && a.length === b.length && b.every((x, i) => Math.abs((a[i] as number) - x) < 1e-6);

function stateOf(index: VisualSearchIndex, id: string): 'absent' | { vector: Float32Array; label: string | null } {
  const it = index.item(id);
  if (!it) return 'absent';
  return { vector: index.vectorOf(id) as Float32Array, label: it.label };
}

function matches(got: ReturnType<typeof stateOf>, want: State): boolean {
  if (want === null) return got === 'absent';
  return got !== 'absent' && got.label === want.label && same(got.vector, want.vector);
}

/** Every answered write is there, every unanswered one whole or not at all; deleted ids are not found. */
async function check(index: VisualSearchIndex, o: Outcome, what: string): Promise<void> {
  let present = 0;
  for (const [id, want] of o.known) {
    assert.ok(matches(stateOf(index, id), want), `${what}: ${id} should be ${want ? want.label : 'absent'}`);
    if (want) present++;
  }
  for (const [id, [before, afterIt]] of o.open) {
    const got = stateOf(index, id);
    assert.ok(matches(got, before) || matches(got, afterIt), `${what}: ${id} (unanswered) is its old or new state`);
    if (got !== 'absent') present++;
  }
  assert.equal(index.stats().items, present, `${what}: the count`);
  const all = await index.search([Float32Array.from(vec(fresh, 0))], { k: 1000, mode: 'float', exact: true });
  const found = new Set((all[0] ?? []).map((h) => h.id));
  assert.equal(found.size, present, `${what}: search sees every live item once`);
  for (const [id, want] of o.known) assert.equal(found.has(id), want !== null, `${what}: ${id} in search`);
}

async function afterCrash(idx: string, o: Outcome, what: string): Promise<void> {
  const reader = await openIndex(idx, { log: () => {} });
  try {
    await check(reader, o, `${what}, read-only`);
  } finally {
    await reader.close();
  }
  const lock = acquireWriterLock(idx, 'test');
  const writer = await openIndex(idx, { writer: { lock }, log: () => {} });
  try {
    await check(writer, o, `${what}, writable`);
    await writer.writer?.compact();
    await check(writer, o, `${what}, compacted after the restart`);
    const r = await writer.writer?.put(
      { id: 'after', path: null, label: 'z', size: null, hash: null },
      Float32Array.from(vec(fresh, 199)),
    );
    assert.equal(r?.created, true);
  } finally {
    await writer.close();
    lock.release();
  }
}

interface Case {
  name: string;
  fault: string;
  compactAbove: number;
  /** SIGKILL from the test once this many waves were answered (and the log says `waitFor`). */
  killAfter?: number;
  waitFor?: RegExp;
  backends?: IndexBackend[];
}

const cases: Case[] = [
  // The log is the same code for both backends (src/search/live/wal.ts): its points are killed on one.
  { name: 'torn batch (wal:mid-append)', fault: 'wal:mid-append@9', compactAbove: 100_000, backends: ['usearch'] },
  {
    name: 'written, not fsynced (wal:before-fsync)',
    fault: 'wal:before-fsync@12',
    compactAbove: 100_000,
    backends: ['lancedb'],
  },
  { name: 'fsynced, not answered (wal:after-fsync)', fault: 'wal:after-fsync@15', compactAbove: 100_000 },
  { name: 'compaction before its manifest', fault: 'compact:before-manifest', compactAbove: 10 },
  { name: 'compaction after its manifest', fault: 'compact:after-manifest', compactAbove: 10 },
  // In the compaction's worker: the thread dies, the compaction fails, the server goes on; then killed.
  {
    name: 'compaction worker killed, then the server',
    fault: 'compact:write-data',
    compactAbove: 10,
    killAfter: 20,
    waitFor: /compaction failed: .*next try in 5 s/,
    backends: ['usearch'],
  },
  { name: 'SIGKILL from outside during compactions', fault: '', compactAbove: 12, killAfter: 25 },
];

for (const backend of ['usearch', 'lancedb'] as const) {
  for (const c of cases) {
    if (c.backends && !c.backends.includes(backend)) continue;
    test(`${backend}: ${c.name}: nothing answered lost, nothing deleted back`, async () => {
      const idx = join(dir, `${backend}-${c.fault.replace(/\W/g, '-') || 'outside'}`);
      await buildIndex(backend, idx);
      const { serve, base: url } = await ServeProcess.start(
        idx,
        ['--writable', '--compact-above', String(c.compactAbove)],
        { NORMSOFTMAX_WRITE_TOKEN: TOKEN, NORMSOFTMAX_FAULT: c.fault },
      );
      const o = await drive(serve, url, c.killAfter ?? null, c.waitFor);
      assert.equal(serve.child.signalCode, 'SIGKILL', `the server was killed\n${serve.log}`);
      assert.ok(o.known.size > N, `writes were answered before the kill (${o.known.size})\n${serve.log}`);
      if (c.waitFor) assert.match(serve.log, c.waitFor, 'the compaction worker died and the server went on');
      await afterCrash(idx, o, c.name);
    });
  }
}

test('serve --writable without a token, or with a short one, is a usage error (exit 2)', () => {
  const idx = join(dir, 'flags');
  const runs: [string[], Record<string, string>, RegExp][] = [
    [['--writable'], { NORMSOFTMAX_WRITE_TOKEN: '' }, /--writable: writes need a token: give --write-token-file FILE/],
    [
      ['--writable'],
      { NORMSOFTMAX_WRITE_TOKEN: 'short' },
      /\$NORMSOFTMAX_WRITE_TOKEN: expected a token of 16 to 512 characters/,
    ],
    [['--writable', '--write-token-file', join(dir, 'none.txt')], {}, /--write-token-file .*none\.txt: cannot read it/],
    [['--compact-above', '5'], {}, /--compact-above: only with --writable/],
  ];
  for (const [flags, env, message] of runs) {
    const args = ['serve', '--index', idx, '--port', '0', ...flags];
    const r = runCli(args, { env });
    assert.equal(r.code, 2, describeRun(args, r));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
