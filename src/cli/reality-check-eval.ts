// `normsoftmax eval --protocol reality-check`: embeds a data set's test split with each model (one per
// class-disjoint fold, trained with train --folds N --fold I) and reports Precision@1, R-Precision and
// MAP@R per model, separated (mean +- 95% CI) and concatenated (src/eval/reality-check.ts); or the three
// metrics of one --embeddings file.
import { existsSync } from 'node:fs';
import { embedForEval } from '../embed/embed-for-eval.js';
import { realityCheck } from '../eval/reality-check.js';
import { foldWarnings, type ModelFold } from '../eval/reality-check-folds.js';
import {
  type RealityCheckDocument,
  type RealityCheckModel,
  realityCheckDocument,
} from '../eval/reality-check-format.js';
import { readCheckpointMeta } from '../io/checkpoint-file.js';
import type { Tensor } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { UsageError } from '../util/errors.js';
import { openDataset } from './dataset-options.js';
import { loadSet } from './eval-files.js';

export interface RealityCheckInputs {
  checkpoints: string[];
  embeddings?: string;
  labels?: string;
  arch?: string;
  dim?: number;
  dataset?: string;
  root?: string;
  tileSize?: number;
  silent: boolean;
  /** The forwards' precision (checkpoints only). */
  precision?: Precision;
}

/** What a checkpoint's training config says about its fold (read from the header, no tensors loaded). */
function modelFold(path: string): ModelFold {
  const meta = existsSync(path) ? readCheckpointMeta(path) : null;
  const config = meta && typeof meta.config === 'object' && meta.config !== null ? meta.config : null;
  return { source: path, config: config as ModelFold['config'] };
}

function describe(fold: ModelFold): RealityCheckModel {
  const c = fold.config;
  const folds = typeof c?.folds === 'number' && c.folds >= 2 ? c.folds : undefined;
  const at = folds !== undefined && typeof c?.fold === 'number' ? c.fold : undefined;
  return { source: fold.source, ...(folds !== undefined && at !== undefined ? { folds, fold: at } : {}) };
}

async function fromCheckpoints(o: RealityCheckInputs): Promise<RealityCheckDocument> {
  if (!o.dataset) throw new UsageError('--checkpoint needs --dataset NAME (and --root DIR)');
  const dataset = openDataset({ dataset: o.dataset, root: o.root });
  const test = dataset.splits.test;
  if (!test) {
    throw new UsageError(
      `--protocol reality-check searches a test split against itself; ${dataset.name} has no test split`,
    );
  }
  const folds = o.checkpoints.map(modelFold);
  const warnings = foldWarnings(folds, o.dataset);
  const embedded: Tensor[] = [];
  try {
    for (const checkpoint of o.checkpoints) {
      const { query } = await embedForEval({
        checkpoint,
        arch: o.arch,
        dim: o.dim,
        dataset,
        silent: o.silent,
        precision: o.precision,
      });
      embedded.push(query.embeddings);
    }
    const labels = Int32Array.from(test, (s) => s.label);
    const result = realityCheck(embedded, labels, { tileSize: o.tileSize });
    return realityCheckDocument(result, folds.map(describe), { dataset: o.dataset, warnings });
  } finally {
    for (const t of embedded) t.dispose();
  }
}

function fromEmbeddings(o: RealityCheckInputs): RealityCheckDocument {
  const set = loadSet({ flag: '--embeddings', path: o.embeddings as string }, { flag: '--labels', path: o.labels });
  try {
    const result = realityCheck([set.embeddings], set.labels, { tileSize: o.tileSize });
    return realityCheckDocument(result, [{ source: set.source }], { warnings: [] });
  } finally {
    set.embeddings.dispose();
    set.labels.dispose();
  }
}

export async function runRealityCheck(o: RealityCheckInputs): Promise<RealityCheckDocument> {
  return o.embeddings !== undefined ? fromEmbeddings(o) : fromCheckpoints(o);
}
