// The weights cache ($NORMSOFTMAX_HOME/weights, default ~/.cache/normsoftmax/weights): files are downloaded
// (resumably, into NAME.part) and kept under their official file names; a file is used only once its
// SHA-256 matches the table, or, for files whose publisher states no digest, the one pinned at the first
// download (NAME.sha256 beside the file).
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { DownloadError } from '../download/errors.js';
import { megabyteProgress } from '../download/megabyte-progress.js';
import { downloadResumable } from '../download/resumable.js';
import { isPrefixOnly, isUnpublished, type WeightsEntry } from './table.js';

export function weightsCacheDir(): string {
  const home = process.env.NORMSOFTMAX_HOME || join(homedir(), '.cache', 'normsoftmax');
  return join(home, 'weights');
}

/** Where the entry's file lives in the cache (its official file name). */
export function cachedWeightsPath(e: WeightsEntry): string {
  const name = basename(new URL(e.url).pathname) || 'weights.pth';
  return join(weightsCacheDir(), name);
}

export interface FetchOptions {
  log?: (line: string) => void;
  quiet?: boolean;
  retries?: number;
  idleTimeoutMs?: number;
}

// Files already checked in this process (path -> "size:mtime"), so one run does not hash a file twice.
const verified = new Map<string, string>();
const stamp = (path: string) => {
  const s = statSync(path);
  return `${s.size}:${s.mtimeMs}`;
};

async function digestAsync(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function digestSync(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Where the digest of a file without a published one is pinned: beside it, as NAME.sha256. */
export function pinPath(path: string): string {
  return `${path}.sha256`;
}

/** The pinned digest of a cached file, or undefined when none was pinned yet. */
export function readPin(path: string): string | undefined {
  try {
    const text = readFileSync(pinPath(path), 'utf8').trim().toLowerCase();
    return /^[0-9a-f]{64}$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Undefined when `digest` matches the entry (whole, or its published prefix) or, without a published one,
 * the pinned digest (none pinned yet: it matches, and the caller pins it); otherwise what differs.
 */
function mismatch(digest: string, e: WeightsEntry, path: string): string | undefined {
  if (isUnpublished(e)) {
    const pinned = readPin(path);
    return pinned === undefined || digest === pinned
      ? undefined
      : `sha256 ${digest}, expected ${pinned} (pinned at its first download in ${pinPath(path)})`;
  }
  const want = (e.sha256 as string).toLowerCase();
  return digest.startsWith(want) ? undefined : `sha256 ${digest}, expected ${want}${isPrefixOnly(e) ? '...' : ''}`;
}

/** Warns about a weaker check, and pins the digest of a file without a published one at its first use. */
function accepted(name: string, e: WeightsEntry, path: string, digest: string, log: (line: string) => void): void {
  if (isPrefixOnly(e))
    log(`warning: ${name}: only the first ${e.sha256?.length} hex digits of its SHA-256 are known; checked those`);
  if (isUnpublished(e) && readPin(path) === undefined) {
    writeFileAtomic(pinPath(path), `${digest}\n`);
    log(
      `warning: ${name}: its publisher states no SHA-256, so it was not verified; pinned this file's (${digest}) in ${pinPath(path)}, later uses are checked against it`,
    );
  }
}

/** Checks a cached file before use (sync, for loaders that are sync); throws when it does not match. */
export function verifyCachedSync(name: string, e: WeightsEntry, path: string, log = stderrLog): void {
  if (verified.get(path) === stamp(path)) return;
  const digest = digestSync(path);
  const bad = mismatch(digest, e, path);
  if (bad) throw corrupted(name, path, bad);
  accepted(name, e, path, digest, log);
  verified.set(path, stamp(path));
}

function corrupted(name: string, path: string, bad: string): DownloadError {
  rmSync(path, { force: true });
  return new DownloadError(
    `${name}: ${path} does not match the weights table (${bad}); it was deleted: run \`normsoftmax weights download ${name}\` again`,
  );
}

const stderrLog = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The entry's file in the cache, downloading it first when absent (resuming a .part left by an interrupted
 * download). A download whose digest does not match is deleted and refused.
 */
export async function fetchWeights(name: string, e: WeightsEntry, o: FetchOptions = {}): Promise<string> {
  const log = o.log ?? stderrLog;
  const path = cachedWeightsPath(e);
  if (existsSync(path)) {
    if (verified.get(path) !== stamp(path)) {
      const digest = await digestAsync(path);
      const bad = mismatch(digest, e, path);
      if (bad) throw corrupted(name, path, bad);
      accepted(name, e, path, digest, log);
      verified.set(path, stamp(path));
    }
    return path;
  }
  mkdirSync(weightsCacheDir(), { recursive: true });
  const part = `${path}.part`;
  log(`${existsSync(part) ? 'resuming' : 'downloading'} ${name} from ${e.url} to ${path}`);
  try {
    await downloadResumable(e.url, part, {
      retries: o.retries,
      idleTimeoutMs: o.idleTimeoutMs,
      log,
      progress: o.quiet ? undefined : megabyteProgress(basename(path)),
    });
  } catch (err) {
    if (!(err instanceof DownloadError)) throw err;
    throw new DownloadError(
      `${err.message.split('\n')[0]}; cannot download ${name} (offline?): fetch ${e.url} by hand and put it at ${path}`,
    );
  }
  const digest = await digestAsync(part);
  const bad = mismatch(digest, e, path);
  if (bad) {
    rmSync(part, { force: true });
    throw new DownloadError(
      `${name}: the download from ${e.url} does not match the weights table (${bad}); the partial file ${part} was deleted; run again to download it afresh`,
    );
  }
  accepted(name, e, path, digest, log);
  renameSync(part, path);
  verified.set(path, stamp(path));
  log(`${name} is ready: ${path}`);
  return path;
}
