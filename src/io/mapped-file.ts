// A file memory-mapped rather than read into the heap (index vectors: the pages a search touches are what
// the process holds, and they stay in the page cache for the next process). Through the search addon's
// mapFile; where that is missing, or NORMSOFTMAX_MMAP=0, the file is read instead and `mapped` says so.
// The mapping is private and copy-on-write: the caller must treat the bytes as read-only (a write changes
// only this process's copy). The file is pinned by identity: mapFile compares device, inode, size and
// modification time with the ones the caller verified, so a file replaced in between is refused.
import { readFileSync, type Stats, statSync } from 'node:fs';
import { mapFileNative } from '../tensor/search-native.js';
import { InputError } from '../util/errors.js';

export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

export function identityOf(s: Stats): FileIdentity {
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
}

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Whether files can be mapped here (the addon has mapFile, and NORMSOFTMAX_MMAP is not 0). */
export function canMapFiles(env: NodeJS.ProcessEnv = process.env): boolean {
  return mapFileNative !== null && env.NORMSOFTMAX_MMAP !== '0';
}

/**
 * The bytes of `path`, mapped where possible (else read), after checking that the file is still the one
 * `expected` describes (an InputError naming it otherwise).
 */
export function mapFile(path: string, expected?: FileIdentity): { bytes: Uint8Array; mapped: boolean } {
  const check = () => {
    if (expected && !sameFile(identityOf(statSync(path)), expected))
      throw new InputError(`${path} changed after it was verified: open the index again`);
  };
  check();
  if (!canMapFiles()) return { bytes: new Uint8Array(readFileSync(path)), mapped: false };
  const bytes = new Uint8Array((mapFileNative as (p: string) => ArrayBuffer)(path));
  check(); // replaced between the check and the map: refused
  return { bytes, mapped: true };
}
