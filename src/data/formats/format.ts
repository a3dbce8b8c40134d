// What every dataset format returns: the shared Dataset contract plus what only the annotations can tell.
import type { Dataset, SplitName } from '../types.js';

export interface LoadOptions {
  /** `folder` only: a file assigning each class folder to train or test (see folder.ts). */
  splitFile?: string;
}

/** A fault in the annotation lists themselves (as opposed to the image files), for `data check`. */
export interface ListProblem {
  kind: 'empty class' | 'list mismatch';
  /** One line for people, e.g. `train class 17 (017.Cardinal) has no images`. */
  detail: string;
}

export interface LoadedDataset extends Dataset {
  listProblems: ListProblem[];
  /** Things worth saying that are not faults, e.g. malformed entries skipped in a package's data. */
  notes?: string[];
  /** The name of each label 0..C-1 of a split (e.g. "sandal"), where the format knows them. */
  classNames?: Partial<Record<SplitName, string[]>>;
}

/** The splits a format produces, in the order they are printed. */
export function splitNames(dataset: Dataset): SplitName[] {
  const order: SplitName[] = ['train', 'test', 'query', 'gallery'];
  return order.filter((s) => dataset.splits[s] !== undefined);
}
