// The writer lock (src/io/writer-lock.ts): one holder at a time, a second writer refused with the holder's
// pid, a dead holder's lock taken over (dead pid, reused pid, earlier boot), never one from another host,
// and no double takeover: a taker that judged a lock stale backs off when another taker got there first
// (deterministic interleavings through takeoverHooks, and four processes racing for one stale lock).
// Released on normal exit and on SIGTERM; left behind by SIGKILL, then taken over.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import {
  acquireWriterLock,
  LOCK_NAME,
  LockHeldError,
  type LockHolder,
  processStartTime,
  readWriterLock,
  takeoverHooks,
} from '../../src/io/writer-lock.js';

const root = mkdtempSync(join(tmpdir(), 'normsoftmax-writer-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  takeoverHooks.beforeClaim = undefined;
});
const CHILD = join(import.meta.dirname, 'child', 'hold-lock.ts');
let n = 0;
const freshDir = () => join(root, `d${n++}`);

/** The pid of a process that has exited (spawned and waited for). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  assert.equal(r.status, 0);
  return r.pid as number;
}

function writeLock(dir: string, h: Partial<LockHolder>, name = LOCK_NAME): LockHolder {
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    bootId: null,
    procStart: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    command: 'index build',
    token: 'ab'.repeat(12),
    ...h,
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), JSON.stringify(holder));
  return holder;
}

const ownBootId = () => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
};

test('acquire writes the holder; a second writer is refused naming its pid; release removes the lock', () => {
  const dir = freshDir();
  const lock = acquireWriterLock(dir, 'index build');
  const h = readWriterLock(dir);
  assert.equal(h?.pid, process.pid);
  assert.equal(h?.host, hostname());
  assert.equal(h?.command, 'index build');
  assert.equal(h?.token, lock.holder.token);
  assert.throws(
    () => acquireWriterLock(dir, 'index build'),
    (e: Error) =>
      e instanceof LockHeldError &&
      e.exitCode === 1 &&
      !e.message.includes('\n') &&
      e.message.includes(`pid ${process.pid} (index build, since ${lock.holder.startedAt})`),
  );
  assert.deepEqual(readdirSync(dir), [LOCK_NAME], 'a refused writer leaves nothing behind');
  lock.release();
  lock.release();
  assert.equal(existsSync(dir), false, 'the folder the lock created, left empty, is removed');
  const again = acquireWriterLock(dir, 'train');
  writeFileSync(join(dir, 'data'), 'x');
  again.release();
  assert.deepEqual(readdirSync(dir), ['data']);
});

test('a lock whose holder is dead is taken over: gone pid, reused pid, earlier boot', (t) => {
  const cases: [string, Partial<LockHolder>][] = [['gone pid', { pid: deadPid() }]];
  const start = processStartTime(process.pid);
  if (start !== null) cases.push(['pid reused (another start time)', { pid: process.pid, procStart: `${start}1` }]);
  const boot = ownBootId();
  if (boot !== null) cases.push(['earlier boot', { pid: process.pid, bootId: `${boot}x` }]);
  if (cases.length < 3)
    t.diagnostic(`no /proc here: only the gone-pid case applies (${cases.map(([name]) => name).join(', ')})`);
  for (const [name, h] of cases) {
    const dir = freshDir();
    writeLock(dir, h);
    writeLock(dir, { pid: deadPid(), token: 'cd'.repeat(12) }, `${LOCK_NAME}.takeover-${'ef'.repeat(12)}`);
    const lock = acquireWriterLock(dir, 'index build');
    assert.equal(readWriterLock(dir)?.token, lock.holder.token, name);
    assert.deepEqual(readdirSync(dir), [LOCK_NAME], `${name}: markers of old takeovers are cleaned up`);
    lock.release();
  }
});

test('a live holder is never taken over; nor one on another host (the message says how to clear it)', () => {
  const dir = freshDir();
  const live = writeLock(dir, { pid: process.ppid, procStart: processStartTime(process.ppid), bootId: ownBootId() });
  assert.throws(() => acquireWriterLock(dir, 'x'), new RegExp(`being written by another process: pid ${live.pid} \\(`));
  writeLock(dir, { pid: deadPid(), host: `${hostname()}-elsewhere` });
  assert.throws(
    () => acquireWriterLock(dir, 'x'),
    (e: Error) =>
      e instanceof LockHeldError &&
      e.message.includes(`on host ${hostname()}-elsewhere`) &&
      e.message.includes(`remove ${join(dir, LOCK_NAME)} if it is no longer running`),
  );
  writeFileSync(join(dir, LOCK_NAME), 'garbage');
  assert.throws(() => acquireWriterLock(dir, 'x'), /\.lock exists but is not a lock this normsoftmax can read/);
  assert.equal(readFileSync(join(dir, LOCK_NAME), 'utf8'), 'garbage');
});

test('two takers of one stale lock: the one that comes second backs off (no double takeover)', () => {
  const dir = freshDir();
  writeLock(dir, { pid: deadPid() });
  const other: Partial<LockHolder> = {
    pid: process.ppid,
    procStart: processStartTime(process.ppid),
    bootId: ownBootId(),
    token: '12'.repeat(12),
  };
  // After we judged the lock stale, another taker replaces it with its own (as a completed takeover does).
  takeoverHooks.beforeClaim = () => {
    takeoverHooks.beforeClaim = undefined;
    writeLock(dir, other, '.lock.next');
    renameSync(join(dir, '.lock.next'), join(dir, LOCK_NAME));
  };
  assert.throws(() => acquireWriterLock(dir, 'x'), new RegExp(`pid ${process.ppid} `));
  assert.equal(readWriterLock(dir)?.token, other.token, "the other taker's lock stands");

  // Another taker is in the middle of its takeover (holds the marker, alive): it is the holder.
  const stale = writeLock(dir, { pid: deadPid(), token: '34'.repeat(12) });
  writeLock(dir, other, `${LOCK_NAME}.takeover-${stale.token}`);
  assert.throws(() => acquireWriterLock(dir, 'x'), new RegExp(`pid ${process.ppid} `));
  assert.equal(readWriterLock(dir)?.token, stale.token);

  // ... and if that taker died mid-takeover, its marker is taken over in turn, then the lock.
  writeLock(dir, { pid: deadPid(), token: other.token }, `${LOCK_NAME}.takeover-${stale.token}`);
  const lock = acquireWriterLock(dir, 'x');
  assert.equal(readWriterLock(dir)?.token, lock.holder.token);
  assert.deepEqual(readdirSync(dir), [LOCK_NAME]);
  lock.release();
});

function startWriter(
  dir: string,
  sync: string,
): { child: ChildProcess; line: Promise<string>; exit: Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, sync], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const line = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code, signal) => reject(new Error(`writer exited (${code ?? signal}) before answering: ${err}`)));
  });
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return { child, line, exit };
}

async function waitForFiles(dir: string, prefix: string, count: number): Promise<void> {
  while (readdirSync(dir).filter((f) => f.startsWith(prefix)).length < count)
    await new Promise((r) => setTimeout(r, 10));
}

test('four processes take over one stale lock at the same moment: exactly one wins', async () => {
  const dir = freshDir();
  const sync = freshDir();
  mkdirSync(sync);
  writeLock(dir, { pid: deadPid() });
  const writers = Array.from({ length: 4 }, () => startWriter(dir, sync));
  await waitForFiles(sync, 'ready-', 4);
  writeFileSync(join(sync, 'go'), '');
  const lines = await Promise.all(writers.map((w) => w.line));
  const won = lines.filter((l) => l.startsWith('won '));
  assert.equal(won.length, 1, lines.join(', '));
  const winner = (won[0] as string).slice(4);
  for (const l of lines) if (!l.startsWith('won ')) assert.equal(l, `lost ${winner}`);
  assert.equal(String(readWriterLock(dir)?.pid), winner);
  writeFileSync(join(sync, 'done'), '');
  assert.deepEqual(await Promise.all(writers.map((w) => w.exit)), [0, 0, 0, 0]);
  assert.deepEqual(readdirSync(dir), [], 'released on normal exit');
});

test('SIGTERM releases the lock (the process still dies by the signal); SIGKILL leaves it, then stale', async () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const dir = freshDir();
    const sync = freshDir();
    mkdirSync(sync);
    writeFileSync(join(sync, 'go'), '');
    const w = startWriter(dir, sync);
    assert.match(await w.line, /^won /);
    w.child.kill(signal);
    assert.equal(await w.exit, signal);
    if (signal === 'SIGTERM') assert.equal(existsSync(join(dir, LOCK_NAME)), false);
    else {
      assert.equal(readWriterLock(dir)?.pid, w.child.pid);
      acquireWriterLock(dir, 'x').release();
    }
  }
});
