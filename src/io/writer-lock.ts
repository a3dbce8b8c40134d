// One writer at a time for a folder (an index, a training run's OUT): FOLDER/.lock names the writer (pid,
// host, boot id, process start time, command, a random token). acquireWriterLock() creates it or fails at
// once with one line naming the holder; release() removes it, and so do normal exit and SIGINT/SIGTERM/
// SIGHUP. A long-lived process (a writable server) holds it from acquire to release.
//
// Why not proper-lockfile: its staleness is the lock's mtime, refreshed by a timer on the event loop, so a
// writer that blocks the main thread longer than the stale period (hashing a large folder, quantising
// millions of vectors) looks dead and is taken over while it writes. Here a lock is stale only when its
// holder is known dead: same host and the pid is gone, or the pid now belongs to a process that started
// at another time (pid reuse), or the machine rebooted since (boot id). A lock from another host is never
// taken over (its pid cannot be checked): the message says to remove it by hand if that writer is gone.
//
// Creating: the lock's content is written and fsynced to a temp file first, then link()ed to .lock, which
// fails if .lock exists: a reader never sees a half-written lock. Taking over a stale lock without the
// race where two takers both remove it and both create their own: only the process that creates the
// marker .lock.takeover-<stale token> (the same exclusive link) may replace the stale lock; it checks that
// .lock still holds that token, then renames its own lock over it in one step (no moment without a lock).
// A taker that judged the same lock stale but finds the marker taken, or .lock changed, backs off and
// looks again. A marker whose holder died mid-takeover is itself stale and taken over the same way.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FailureError, InputError } from '../util/errors.js';
import { fsyncDir } from './atomic.js';
import { asDiskFull } from './disk-full.js';

export const LOCK_NAME = '.lock';
const TAKEOVER = `${LOCK_NAME}.takeover-`;
const TEMP = `${LOCK_NAME}.tmp-`;
/** Nested takeovers (a marker whose taker died, and so on) before giving up. */
const MAX_DEPTH = 4;
const MAX_TRIES = 20;
/** Temp files older than this are litter of a crashed acquire (a live one needs microseconds). */
const LITTER_MS = 60_000;

export interface LockHolder {
  pid: number;
  host: string;
  /** Linux: /proc/sys/kernel/random/boot_id; a lock from an earlier boot is stale. Null elsewhere. */
  bootId: string | null;
  /** Linux: the holder's start time in clock ticks since boot (/proc/PID/stat field 22). Null elsewhere. */
  procStart: string | null;
  startedAt: string;
  /** What holds it (e.g. "index build"), for the message. */
  command: string;
  token: string;
}

/** The folder is being written by a live process (or one whose liveness cannot be checked). */
export class LockHeldError extends FailureError {
  override name = 'LockHeldError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    const here = holder.host === hostname();
    super(
      `${dir} is being written by another process: pid ${holder.pid}${here ? '' : ` on host ${holder.host}`} (${holder.command}, since ${holder.startedAt}); ` +
        (here
          ? 'wait for it to finish'
          : `wait for it to finish, or remove ${join(dir, LOCK_NAME)} if it is no longer running`),
    );
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Field 22 (starttime) of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses. */
export function processStartTime(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19] ?? null;
}

let self: Pick<LockHolder, 'pid' | 'host' | 'bootId' | 'procStart'> | null = null;
function thisProcess() {
  self ??= {
    pid: process.pid,
    host: hostname(),
    bootId: readText('/proc/sys/kernel/random/boot_id'),
    procStart: processStartTime(process.pid),
  };
  return self;
}

/** Whether the holder may still be running: false only when it is known to be dead. */
export function holderAlive(h: LockHolder): boolean {
  const me = thisProcess();
  if (h.host !== me.host) return true;
  if (h.bootId !== null && me.bootId !== null && h.bootId !== me.bootId) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: a live process of another user.
  }
  if (h.procStart !== null) {
    const now = processStartTime(h.pid);
    if (now !== null && now !== h.procStart) return false;
  }
  return true;
}

type Read = LockHolder | null | 'unreadable';

/** The holder named by a lock file; null when there is none, 'unreadable' when it is not one of ours. */
function readHolder(path: string): Read {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    const ok =
      Number.isInteger(h.pid) &&
      h.pid > 0 &&
      typeof h.host === 'string' &&
      typeof h.token === 'string' &&
      /^[0-9a-f]{8,64}$/.test(h.token) &&
      (h.bootId === null || typeof h.bootId === 'string') &&
      (h.procStart === null || typeof h.procStart === 'string');
    return ok ? { ...h, command: String(h.command), startedAt: String(h.startedAt) } : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** The current holder of a folder's lock, or null (for messages and tests). */
export function readWriterLock(dir: string): LockHolder | null {
  const h = readHolder(join(resolve(dir), LOCK_NAME));
  return h === 'unreadable' ? null : h;
}

/** Tests only: runs after a taker has judged a lock stale and before it claims the right to replace it. */
export const takeoverHooks: { beforeClaim?: (lockPath: string, stale: LockHolder) => void } = {};

type Claim = { ok: true } | { ok: false; holder: LockHolder };

function unreadable(path: string): FailureError {
  return new FailureError(
    `${path} exists but is not a lock this normsoftmax can read; if no normsoftmax is writing that folder, remove it`,
  );
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Makes `path` a link to our temp file `tmp`: when absent, or when it names a dead holder. */
function claim(path: string, tmp: string, token: string, depth: number): Claim {
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    try {
      linkSync(tmp, path);
      return { ok: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const current = readHolder(path);
    if (current === null) continue; // released meanwhile
    if (current === 'unreadable') throw unreadable(path);
    if (current.token === token) return { ok: true };
    if (holderAlive(current)) return { ok: false, holder: current };
    if (depth >= MAX_DEPTH)
      throw new FailureError(`${path}: too many interrupted takeovers; remove ${path}* if no normsoftmax is writing`);
    takeoverHooks.beforeClaim?.(path, current);
    const marker = `${path}.takeover-${current.token}`;
    const right = claim(marker, tmp, token, depth + 1);
    if (!right.ok) return right; // a live process is taking it over: it is the holder
    try {
      const again = readHolder(path);
      if (again !== null && again !== 'unreadable' && again.token === current.token) {
        // Still the stale lock, and no one else may replace it while we hold the marker.
        const fresh = `${tmp}.${depth}`;
        linkSync(tmp, fresh);
        renameSync(fresh, path);
        return { ok: true };
      }
    } finally {
      unlinkQuietly(marker);
    }
  }
  throw new FailureError(`${path}: could not take the lock in ${MAX_TRIES} tries (other processes keep taking it)`);
}

function writeDurable(path: string, text: string): void {
  const fd = openSync(path, 'wx');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes markers of earlier takeovers and temp files of crashed acquires (once we hold the lock). */
function removeLitter(dir: string, token: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      if (name.startsWith(TAKEOVER) && !name.includes(token)) unlinkQuietly(path);
      else if (name.startsWith(TEMP) && !name.includes(token) && Date.now() - statSync(path).mtimeMs > LITTER_MS)
        unlinkQuietly(path);
    } catch {
      // Removed by someone else meanwhile.
    }
  }
}

const held = new Set<WriterLock>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const onSignal = new Map<NodeJS.Signals, () => void>(
  SIGNALS.map((signal) => [
    signal,
    () => {
      // Another handler (a server's graceful stop) owns the shutdown; the exit handler releases later.
      if (process.listenerCount(signal) > 1) return;
      releaseAll();
      process.kill(process.pid, signal); // our handler is gone: the default action, exit by this signal
    },
  ]),
);

function releaseAll(): void {
  for (const lock of [...held]) {
    try {
      lock.release();
    } catch {
      // Exiting anyway: a lock left behind is stale once this process is gone.
    }
  }
}

function track(lock: WriterLock, on: boolean): void {
  const before = held.size;
  if (on) held.add(lock);
  else held.delete(lock);
  if (before === 0 && held.size === 1) {
    process.on('exit', releaseAll);
    for (const [signal, handler] of onSignal) process.on(signal, handler);
  } else if (before > 0 && held.size === 0) {
    process.off('exit', releaseAll);
    for (const [signal, handler] of onSignal) process.off(signal, handler);
  }
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty (or gone): keep it.
  }
}

export class WriterLock {
  #held = true;

  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
    readonly createdDir: boolean,
  ) {}

  get held(): boolean {
    return this.#held;
  }

  /**
   * Removes the lock if it is still ours (idempotent). A folder the lock created is removed too when
   * nothing else was written in it (a command that failed before writing leaves nothing behind).
   */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    track(this, false);
    const path = join(this.dir, LOCK_NAME);
    const now = readHolder(path);
    if (now !== null && now !== 'unreadable' && now.token === this.holder.token) unlinkQuietly(path);
    if (this.createdDir) removeIfEmpty(this.dir);
  }
}

/**
 * Takes the folder's writer lock (creating the folder if needed), or throws LockHeldError (exit 1)
 * naming the live holder. `command` says what holds it ("index build", "train").
 */
export function acquireWriterLock(dirIn: string, command: string): WriterLock {
  const dir = resolve(dirIn);
  const createdDir = !existsSync(dir);
  const me: LockHolder = {
    ...thisProcess(),
    startedAt: new Date().toISOString(),
    command,
    token: randomBytes(12).toString('hex'),
  };
  const tmp = join(dir, `${TEMP}${me.token}`);
  let result: Claim;
  try {
    mkdirSync(dir, { recursive: true });
    // A folder created here must not vanish in a crash after its writer finishes: its name made durable.
    if (createdDir) fsyncDir(dirname(dir));
    writeDurable(tmp, `${JSON.stringify(me)}\n`);
    result = claim(join(dir, LOCK_NAME), tmp, me.token, 0);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new InputError(`${dir}: not a folder`);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      throw new FailureError(`${dir}: cannot create ${LOCK_NAME} there (${code}): the folder is not writable`);
    throw asDiskFull(e, join(dir, LOCK_NAME));
  } finally {
    rmSync(tmp, { force: true });
  }
  if (!result.ok) {
    if (createdDir) removeIfEmpty(dir);
    throw new LockHeldError(dir, result.holder);
  }
  removeLitter(dir, me.token);
  const lock = new WriterLock(dir, me, createdDir);
  track(lock, true);
  return lock;
}

/** Runs `fn` holding the folder's writer lock; released however `fn` ends. */
export async function withWriterLock<T>(
  dir: string,
  command: string,
  fn: (lock: WriterLock) => Promise<T>,
): Promise<T> {
  const lock = acquireWriterLock(dir, command);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
