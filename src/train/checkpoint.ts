// Training checkpoints: everything needed to resume exactly — the embedder, the loss's parameters (class
// weights W), the optimiser's buffers, and (as JSON metadata) config, epoch, optimiser scalars, sampler
// and RNG states and the last evaluation — in the checkpoint container of src/io/checkpoint-file.ts.
import type { SamplerState } from '../data/samplers/types.js';
import {
  type CHECKPOINT_FORMAT,
  type CheckpointFile,
  type CheckpointHeader,
  disposeCheckpointFile,
  readCheckpointFile,
  writeCheckpointFile,
} from '../io/checkpoint-file.js';
import type { RngState } from '../util/rng.js';
import type { TrainConfig } from './config.js';
import type { EvalRecord } from './metrics.js';
import type { OptimizerStateDict } from './optim/optimizer.js';

export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, isCheckpointFile } from '../io/checkpoint-file.js';

export interface CheckpointMeta extends CheckpointHeader {
  format: typeof CHECKPOINT_FORMAT;
  config: TrainConfig;
  numClasses: number;
  /** Global step count (batches trained). */
  step: number;
  optimizer: OptimizerStateDict['meta'] | null;
  /**
   * The name of each optimiser parameter by index (model state-dict keys, loss.<name>), so that resume maps
   * the state by parameter onto another grouping. Absent in checkpoints from before it (optimizer-resume.ts).
   */
  optimizerParams?: string[];
  /** The batch sampler's position and RNG at the end of the saved epoch. */
  sampler: SamplerState;
  /** RNG of the loss (class subsampling negatives), when it has one. */
  lossRng: RngState | null;
  lastEval: EvalRecord | null;
  savedAt: string;
  /** Processes of the data-parallel job that wrote it (absent: one process). */
  worldSize?: number;
}

export type Checkpoint = CheckpointFile<CheckpointMeta>;

/** Writes atomically (safetensors writes to a temporary file, then renames). */
export function saveCheckpoint(path: string, c: Checkpoint): void {
  writeCheckpointFile(path, c);
}

/** Reads a checkpoint written by saveCheckpoint; errors name the file. */
export function loadCheckpoint(path: string): Checkpoint {
  return readCheckpointFile<CheckpointMeta>(path);
}

export function disposeCheckpoint(c: Checkpoint): void {
  disposeCheckpointFile(c);
}
