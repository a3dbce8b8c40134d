// Images put into a live index are kept in its folder, content-addressed: IDX/files/ab/<sha256>.<ext>, so
// that /api/images/:id and thumbnails work for them wherever they came from, and a file put twice is kept
// once. Written asynchronously (the server's event loop does not wait on the disk), to a temporary name,
// fsynced, renamed, and its folders fsynced, before the put that names it goes into the log.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ImageKind } from '../../data/image/image-kind.js';
import { asDiskFull } from '../../io/disk-full.js';

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

/** Stores an image's bytes in the index folder (once per content); durable when it resolves. */
export async function storeImage(indexDir: string, bytes: Uint8Array, kind: ImageKind): Promise<StoredImage> {
  const hash = createHash('sha256').update(bytes).digest('hex');
  const path = `${FILES_DIR}/${hash.slice(0, 2)}/${hash}.${EXTENSION[kind]}`;
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
