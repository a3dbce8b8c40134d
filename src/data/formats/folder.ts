// Your own photos: ROOT/<class>/<image>. Only image files directly inside a class folder count (extensions
// jpg, jpeg, png, webp, gif, tif, tiff, avif; any case); hidden entries are ignored. Class folders and images
// are sorted by name (code-unit order), so labels and splits do not depend on the file system.
// The split is class-disjoint: the first half of the classes that have images (rounded up) train, the rest
// test; or, with a split file, whatever it says (see split-file.ts).
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { Sample } from '../types.js';
import { requireDirectory } from './files.js';
import type { ListProblem, LoadedDataset, LoadOptions } from './format.js';
import { LabelMap } from './labels.js';
import { readSplitFile } from './split-file.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

export function loadFolder(root: string, opts: LoadOptions = {}): LoadedDataset {
  const abs = requireDirectory(root, 'folder');
  const classes = readdirSync(abs, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodeUnit);
  const listProblems: ListProblem[] = [];
  const imagesOf = new Map<string, string[]>();
  for (const cls of classes) {
    const images = readdirSync(join(abs, cls), { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort(byCodeUnit);
    if (images.length === 0) listProblems.push({ kind: 'empty class', detail: `class folder ${cls} has no images` });
    else imagesOf.set(cls, images);
  }
  const withImages = [...imagesOf.keys()];
  if (withImages.length === 0)
    throw new InputError(`folder: no class folders with images in ${abs} (expected ROOT/<class>/<image>)`);

  const splitOf = opts.splitFile === undefined ? halves(withImages) : readSplitFile(opts.splitFile, withImages);
  const maps = { train: new LabelMap(), test: new LabelMap() };
  const splits: { train: Sample[]; test: Sample[] } = { train: [], test: [] };
  for (const cls of withImages) {
    const split = splitOf.get(cls)!;
    for (const image of imagesOf.get(cls)!)
      splits[split].push({ path: join(abs, cls, image), label: maps[split].label(cls) });
  }
  return { name: 'folder', root: abs, splits, listProblems };
}

function halves(classes: string[]): Map<string, 'train' | 'test'> {
  const trainCount = Math.ceil(classes.length / 2);
  return new Map(classes.map((c, i) => [c, i < trainCount ? 'train' : 'test']));
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
