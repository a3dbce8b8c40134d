// train for library users: a training run as `normsoftmax train` makes it (OUT/last.safetensors each epoch,
// metrics.jsonl, report.html), from the same options as its flags in camelCase.

import { join } from 'node:path';
import { REPORT_NAME, trainAndReport } from '../report/train-and-report.js';
import { resolveConfig, type TrainConfig } from '../train/config.js';
import type { EvalRecord } from '../train/metrics.js';

export type { TrainConfig };

/** Any training option (defaults < preset < these), plus the run's own settings. */
export interface TrainOptions extends Partial<TrainConfig> {
  /** The paper's hyper-parameters for a benchmark: cub, cars196, sop, inshop. */
  preset?: string;
  /** Continue from a checkpoint (OUT/last.safetensors): the same weights as an uninterrupted run. */
  resume?: string;
  /** Print progress and per-epoch lines (default false). */
  verbose?: boolean;
  log?: (line: string) => void;
}

export interface TrainResult {
  /** The options as resolved and validated (what OUT/config.json holds). */
  config: TrainConfig;
  checkpoint: string;
  report: string;
  /** The last zero-shot evaluation (Recall@K, NMI...), or null when none ran. */
  lastEval: EvalRecord | null;
}

/** Trains an embedder and evaluates it zero-shot; bad options are errors naming the option. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { preset, resume, verbose, log, ...flags } = options;
  const config = resolveConfig({ ...(preset !== undefined ? { preset } : {}), flags });
  const result = await trainAndReport(config, {
    ...(resume !== undefined ? { resume } : {}),
    silent: verbose !== true,
    ...(log ? { log } : {}),
  });
  result.model.dispose();
  return {
    config,
    checkpoint: join(result.outDir, 'last.safetensors'),
    report: join(result.outDir, REPORT_NAME),
    lastEval: result.lastEval,
  };
}
