// Reads a whole file into one buffer (no size limit below 4 GiB, unlike readFileSync's 2 GiB) and turns
// file-system failures into one-line FormatErrors.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError } from '../util/errors.js';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'a parent of this path is not a directory',
};

export function readFileBytes(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new FormatError(path, `cannot open: ${REASONS[code] ?? (e as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new FormatError(path, REASONS.EISDIR as string);
    const bytes = Buffer.allocUnsafe(stat.size);
    let offset = 0;
    while (offset < bytes.length) {
      const n = readSync(fd, bytes, offset, Math.min(bytes.length - offset, 1 << 30), null);
      if (n === 0) throw new FormatError(path, `file shrank while reading (${offset} of ${bytes.length} bytes)`);
      offset += n;
    }
    return bytes;
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(path, `cannot read: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
