// A folder of images as a data set to embed (`embed --images DIR`): every image under it, recursively,
// sorted by path; an image's label is the index of its folder among the sorted folders.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { IMAGE_FILE_EXTENSIONS } from '../data/image/image-kind.js';
import type { Dataset, Sample } from '../data/types.js';
import { InputError } from '../util/errors.js';

/** Every image under dir (recursively), sorted by path; label = index of its folder among sorted folders. */
export function folderSamples(dir: string): Sample[] {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new InputError(`--images ${dir}: not a directory`);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (IMAGE_FILE_EXTENSIONS.has(extname(name).toLowerCase())) files.push(p);
    }
  };
  walk(root);
  files.sort();
  if (files.length === 0) throw new InputError(`--images ${dir}: no images (jpg, png, webp, ...) found`);
  const folders = [...new Set(files.map((f) => f.slice(0, f.lastIndexOf('/'))))].sort();
  return files.map((path) => ({ path, label: folders.indexOf(path.slice(0, path.lastIndexOf('/'))) }));
}

/** The folder as a data set whose test split is its images. */
export function imageFolder(dir: string): { dataset: Dataset; samples: Sample[] } {
  const samples = folderSamples(dir);
  return { dataset: { name: 'images', root: resolve(dir), splits: { test: samples } }, samples };
}
