// Class-disjoint folds of a training split (Musgrave et al., "A Metric Learning Reality Check", ECCV 2020):
// the sorted class ids are cut into `folds` contiguous blocks, as numpy's array_split does (and the paper's
// powerful-benchmarker): with C classes, the first C mod folds blocks get one class more. Fold i's model
// trains on the other blocks' classes and is validated on block i's.
import { UsageError } from '../util/errors.js';
import type { Sample } from './types.js';

/** The class ids of each fold: contiguous blocks of the sorted distinct labels. */
export function classFolds(labels: Iterable<number>, folds: number): number[][] {
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  checkFolds(folds, 0, classes.length);
  const base = Math.floor(classes.length / folds);
  const extra = classes.length % folds;
  const out: number[][] = [];
  let start = 0;
  for (let f = 0; f < folds; f++) {
    const size = base + (f < extra ? 1 : 0);
    out.push(classes.slice(start, start + size));
    start += size;
  }
  return out;
}

/** Refuses a fold setting that cannot be split: fewer than 2 folds, a fold out of range, too few classes. */
export function checkFolds(folds: number, fold: number, classes?: number): void {
  if (!Number.isInteger(folds) || folds < 2) {
    throw new UsageError(`--folds: expected an integer of at least 2 (0 = no folds), got ${folds}`);
  }
  if (!Number.isInteger(fold) || fold < 0 || fold >= folds) {
    throw new UsageError(`--fold: expected an integer in 0..${folds - 1} for --folds ${folds}, got ${fold}`);
  }
  if (classes !== undefined && classes < folds) {
    throw new UsageError(`--folds ${folds}: the training split has only ${classes} classes, fewer than the folds`);
  }
}

export interface FoldSplit {
  /** The other folds' samples, labels renumbered 0..C'-1 in sorted class order (for the loss's classes). */
  train: Sample[];
  /** Fold `fold`'s samples with their original labels. */
  validation: Sample[];
  /** The original class ids of the validation fold. */
  validationClasses: number[];
  /** The original class ids trained on. */
  trainClasses: number[];
}

/** Splits training samples into the classes trained on and fold `fold`'s validation classes. */
export function foldSplit(samples: readonly Sample[], folds: number, fold: number): FoldSplit {
  const blocks = classFolds(
    samples.map((s) => s.label),
    folds,
  );
  checkFolds(folds, fold);
  const validationClasses = blocks[fold] as number[];
  const held = new Set(validationClasses);
  const trainClasses = blocks.filter((_, f) => f !== fold).flat();
  const code = new Map(trainClasses.map((c, i) => [c, i]));
  const train: Sample[] = [];
  const validation: Sample[] = [];
  for (const s of samples) {
    if (held.has(s.label)) validation.push(s);
    else train.push({ ...s, label: code.get(s.label) as number });
  }
  return { train, validation, validationClasses, trainClasses };
}
