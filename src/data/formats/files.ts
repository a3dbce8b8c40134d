// Reading annotation text files with errors that name the file, and finding where an archive was unpacked.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';

/** Throws a one-line error unless `root` is an existing directory. */
export function requireDirectory(root: string, format: string): string {
  const abs = resolve(root);
  if (!existsSync(abs)) throw new InputError(`${format}: --root ${root} does not exist`);
  if (!statSync(abs).isDirectory()) throw new InputError(`${format}: --root ${root} is not a directory`);
  return abs;
}

/**
 * The first of `root` and `root/<sub>` (for each sub) that contains `marker`; archives unpack into a top folder
 * and people point --root either at it or at its parent.
 */
export function findBase(root: string, subs: string[], marker: string): string | undefined {
  for (const dir of [root, ...subs.map((s) => join(root, s))]) {
    if (existsSync(join(dir, marker))) return dir;
  }
  return undefined;
}

/** Non-empty lines with their 1-based line numbers; `\r\n` and a byte-order mark are tolerated. */
export function readLines(path: string): { text: string; line: number }[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${code})`);
  }
  if (content.charCodeAt(0) === 0xfeff) content = content.slice(1);
  const out: { text: string; line: number }[] = [];
  content.split(/\r?\n/).forEach((text, i) => {
    if (text.trim() !== '') out.push({ text, line: i + 1 });
  });
  return out;
}

export function lineError(path: string, line: number, expected: string, found: string): InputError {
  const shown = found.length > 80 ? `${found.slice(0, 77)}...` : found;
  return new InputError(`${path}:${line}: expected ${expected}, found "${shown}"`);
}

/** Parses a whole positive decimal integer, or returns undefined. */
export function parseId(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}
