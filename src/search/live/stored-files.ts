// Images put into a live index are kept in its folder, content-addressed: IDX/files/ab/<sha256>.<ext>, so
// that /api/images/:id and thumbnails work for them wherever they came from, and a file put twice is kept
// once. Written asynchronously (the server's event loop does not wait on the disk), to a temporary name,
// fsynced, renamed, and its folders fsynced, before the put that names it goes into the log.
//
// A file no live item names any more (its items deleted or replaced) is removed by the compaction that folds
// the last write naming it, once the new manifest is durable and the log segments it folded are gone: the
// files kept are those named by an item of the new generation (hidden rows included), by a put still in the
// log, or held by a write in progress (stored, its put not yet in the log: FileHolds). A crash halfway
// through leaves files nobody names (removed by the next compaction), never a named one missing.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ImageKind } from '../../data/image/image-kind.js';
import { fsyncDir } from '../../io/atomic.js';
import { asDiskFull } from '../../io/disk-full.js';
import { faultPoint } from '../../util/fault.js';

export const FILES_DIR = 'files';

const EXTENSION: Record<ImageKind, string> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  bmp: 'bmp',
  tiff: 'tif',
  avif: 'avif',
};

export interface StoredImage {
  /** Relative to the index folder. */
  path: string;
  /** SHA-256 of the bytes (hex). */
  hash: string;
  size: number;
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e; // file systems without folder fsync
  } finally {
    await fh.close();
  }
}

/** Where an image's bytes are stored (relative to the index folder), and their SHA-256. */
export function storedImagePath(bytes: Uint8Array, kind: ImageKind): { path: string; hash: string } {
  const hash = createHash('sha256').update(bytes).digest('hex');
  return { path: `${FILES_DIR}/${hash.slice(0, 2)}/${hash}.${EXTENSION[kind]}`, hash };
}

/** Stores an image's bytes in the index folder (once per content); durable when it resolves. */
export async function storeImage(
  indexDir: string,
  bytes: Uint8Array,
  kind: ImageKind,
  at: { path: string; hash: string } = storedImagePath(bytes, kind),
): Promise<StoredImage> {
  const { path, hash } = at;
  const full = join(indexDir, path);
  if (existsSync(full) && statSync(full).size === bytes.length) return { path, hash, size: bytes.length };
  const folder = dirname(full);
  const tmp = `${full}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}`;
  try {
    const created = await mkdir(folder, { recursive: true });
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, full);
    await fsyncPath(folder);
    // New folders (files/, files/ab/): their names made durable too.
    if (created !== undefined) {
      await fsyncPath(dirname(folder));
      await fsyncPath(indexDir);
    }
  } catch (e) {
    await rm(tmp, { force: true });
    throw asDiskFull(e, full);
  }
  return { path, hash, size: bytes.length };
}

/**
 * The stored files that writes in progress will name (stored, or being stored, their put not yet in the
 * log): a sweep keeps them, and also every file held at any moment while it runs.
 */
export class FileHolds {
  readonly #count = new Map<string, number>();
  #duringSweep: Set<string> | null = null;

  /** Holds `path` until the returned function is called (once the put naming it is in the log, or failed). */
  hold(path: string): () => void {
    this.#count.set(path, (this.#count.get(path) ?? 0) + 1);
    this.#duringSweep?.add(path);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#count.get(path) ?? 1) - 1;
      if (n === 0) this.#count.delete(path);
      else this.#count.set(path, n);
    };
  }

  /** Runs a sweep with `keep` extended to every path held now or while it runs. */
  async sweep<T>(run: (held: (path: string) => boolean) => Promise<T>): Promise<T> {
    const during = new Set<string>(this.#count.keys());
    this.#duringSweep = during;
    try {
      return await run((path) => during.has(path) || this.#count.has(path));
    } finally {
      this.#duringSweep = null;
    }
  }
}

/** What a sweep removed. */
export interface SweepReport {
  files: number;
  bytes: number;
}

const SHARD = /^[0-9a-f]{2}$/;
const TEMPORARY = /\.tmp-[^/]*$/;

/**
 * Removes the files under IDX/files/ whose path (relative to the index folder) `keep` refuses, and the
 * temporary files of stores that never finished (unless their file is kept: a store may be writing it).
 * `keep` is asked right before each removal, in the same synchronous step; the event loop gets a turn
 * between shards.
 */
export async function removeUnreferencedFiles(indexDir: string, keep: (path: string) => boolean): Promise<SweepReport> {
  const root = join(indexDir, FILES_DIR);
  const report: SweepReport = { files: 0, bytes: 0 };
  if (!existsSync(root)) return report;
  for (const shard of readdirSync(root).filter((s) => SHARD.test(s))) {
    const folder = join(root, shard);
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    let removed = 0;
    for (const name of names) {
      const path = `${FILES_DIR}/${shard}/${name.replace(TEMPORARY, '')}`;
      if (keep(path)) continue;
      const full = join(folder, name);
      let size = 0;
      try {
        size = statSync(full).size;
      } catch {
        continue;
      }
      faultPoint('compact:remove-files');
      rmSync(full, { force: true });
      removed++;
      report.files++;
      report.bytes += size;
    }
    // Not needed for safety (a file that comes back is only an orphan again), but the space is freed for good.
    if (removed > 0) fsyncDir(folder);
    await new Promise((r) => setImmediate(r));
  }
  return report;
}
