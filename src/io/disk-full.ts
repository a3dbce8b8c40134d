// A write that failed because the disk (or the user's quota) is full is the user's to fix, not a fault
// of ours: one line naming the file, exit code 1, and what to do.
import { FailureError } from '../util/errors.js';

const FULL = new Set(['ENOSPC', 'EDQUOT']);

export class DiskFullError extends FailureError {
  override name = 'DiskFullError';
  constructor(readonly path: string) {
    super(`${path}: no space left on device; free some space and run the command again`);
  }
}

export function isDiskFull(e: unknown): boolean {
  return e instanceof DiskFullError || FULL.has(String((e as NodeJS.ErrnoException | null)?.code));
}

/** A full-disk error as a DiskFullError naming `path`; any other error unchanged. */
export function asDiskFull(e: unknown, path: string): unknown {
  return isDiskFull(e) && !(e instanceof DiskFullError) ? new DiskFullError(path) : e;
}
