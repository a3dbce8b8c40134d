// The split file of the `folder` format: one class per line, "<split> <class folder name>", where split is
// train or test and the folder name is the rest of the line (it may contain spaces). Blank lines and lines
// starting with # are ignored. Every class folder that has images must be listed, and nothing else.
//   # split.txt
//   train Black_footed_Albatross
//   test  Cardinal
import { InputError } from '../../util/errors.js';
import { lineError, readLines } from './files.js';

export function readSplitFile(path: string, classes: string[]): Map<string, 'train' | 'test'> {
  const known = new Set(classes);
  const splitOf = new Map<string, 'train' | 'test'>();
  for (const { text, line } of readLines(path)) {
    if (text.trimStart().startsWith('#')) continue;
    const match = /^\s*(train|test)\s+(.+?)\s*$/.exec(text);
    if (!match) throw lineError(path, line, '"train <class folder>" or "test <class folder>"', text);
    const [, split, cls] = match as unknown as [string, 'train' | 'test', string];
    if (!known.has(cls)) throw new InputError(`${path}:${line}: no class folder with images named "${cls}"`);
    if (splitOf.has(cls)) throw new InputError(`${path}:${line}: class "${cls}" is listed twice`);
    splitOf.set(cls, split);
  }
  const missing = classes.filter((c) => !splitOf.has(c));
  if (missing.length > 0) {
    const shown = missing.slice(0, 3).join('", "') + (missing.length > 3 ? `" and ${missing.length - 3} more` : '"');
    throw new InputError(`${path}: no split for class folder "${shown} (add "train <name>" or "test <name>" lines)`);
  }
  return splitOf;
}
