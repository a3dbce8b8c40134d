// Writes that never leave a half-written file behind and survive a crash once they return: write a temp
// file beside the target, fsync it, rename it over the target, fsync the folder (without that last step
// a crash right after the rename can lose the new name, and the old file comes back). A write that
// fails (a full disk) removes its temp file and names the file it was writing.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { type FaultPoint, faultPoint } from '../util/fault.js';
import { asDiskFull } from './disk-full.js';

export interface AtomicWriteOptions {
  /** A fault-injection point reached halfway through writing the temp file (src/util/fault.ts). */
  fault?: FaultPoint;
}

/** fsync of a folder: makes the names created, renamed or removed in it durable. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    // Platforms where a folder cannot be opened (Windows) have no folder fsync to do.
    if ((e as NodeJS.ErrnoException).code === 'EISDIR' || (e as NodeJS.ErrnoException).code === 'EPERM') return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e; // file systems without folder fsync
  } finally {
    closeSync(fd);
  }
}

/** fsync of a file by name (one written by someone else: a worker, a library). */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Moves a finished temp file into place durably: fsync the file, rename, fsync the folder. */
export function renameDurable(tmp: string, path: string): void {
  fsyncFile(tmp);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export function writeFileAtomic(path: string, data: Uint8Array | string, o: AtomicWriteOptions = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    const fd = openSync(tmp, 'w');
    try {
      let offset = 0;
      const write = (end: number) => {
        while (offset < end) offset += writeSync(fd, bytes, offset, end - offset);
      };
      if (o.fault) {
        write(bytes.length >> 1);
        faultPoint(o.fault);
      }
      write(bytes.length);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw asDiskFull(e, path);
  }
  fsyncDir(dirname(path));
}
