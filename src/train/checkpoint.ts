// Training checkpoints: one safetensors file holding everything needed to resume exactly — the
// embedder, the loss's parameters (class weights W), the optimiser's buffers, and (as JSON metadata)
// config, epoch, optimiser scalars, sampler and RNG states and the metrics so far. Written atomically.
//   tensors:  model.<embedder state-dict key>, loss.<name>, optim.state.<i>.<buffer>, rng.torch (uint8)
//   metadata: {"normsoftmax": JSON of CheckpointMeta}
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { UserError } from '../cli/errors.js';
import type { SamplerState } from '../data/samplers/types.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import type { Tensor } from '../tensor/index.js';
import type { RngState } from '../util/rng.js';
import type { TrainConfig } from './config.js';
import type { EvalRecord } from './metrics.js';
import type { OptimizerStateDict } from './optim/optimizer.js';

export const CHECKPOINT_FORMAT = 'normsoftmax-checkpoint';
export const CHECKPOINT_VERSION = 1;
const METADATA_KEY = 'normsoftmax';

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  config: TrainConfig;
  /** Epochs completed, warm-up included. */
  epochsDone: number;
  numClasses: number;
  /** Global step count (batches trained). */
  step: number;
  optimizer: OptimizerStateDict['meta'] | null;
  /** The batch sampler's position and RNG at the end of the saved epoch. */
  sampler: SamplerState;
  /** RNG of the loss (class subsampling negatives), when it has one. */
  lossRng: RngState | null;
  lastEval: EvalRecord | null;
  savedAt: string;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  model: Record<string, Tensor>;
  loss: Record<string, Tensor>;
  optimizer: Record<string, Tensor>;
  torchRng: Tensor | null;
}

export function saveCheckpoint(path: string, c: Checkpoint): void {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(c.model)) tensors[`model.${k}`] = t;
  for (const [k, t] of Object.entries(c.loss)) tensors[`loss.${k}`] = t;
  for (const [k, t] of Object.entries(c.optimizer)) tensors[`optim.${k}`] = t;
  if (c.torchRng) tensors['rng.torch'] = c.torchRng;
  saveSafetensors(path, tensors, { [METADATA_KEY]: JSON.stringify(c.meta) });
}

/** Reads a checkpoint written by saveCheckpoint; errors name the file. */
export function loadCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) throw new UserError(`${path}: checkpoint not found`);
  const { tensors, metadata } = loadSafetensors(path);
  const raw = metadata[METADATA_KEY];
  if (raw === undefined) {
    for (const t of Object.values(tensors)) t.dispose();
    throw new UserError(`${path}: not a normsoftmax checkpoint (a bare weights file? pass --arch and --dim)`);
  }
  const meta = JSON.parse(raw) as CheckpointMeta;
  if (meta.format !== CHECKPOINT_FORMAT || meta.version > CHECKPOINT_VERSION) {
    throw new UserError(`${path}: unsupported checkpoint format ${meta.format} v${meta.version}`);
  }
  const out: Checkpoint = { meta, model: {}, loss: {}, optimizer: {}, torchRng: null };
  for (const [key, t] of Object.entries(tensors)) {
    if (key.startsWith('model.')) out.model[key.slice(6)] = t;
    else if (key.startsWith('loss.')) out.loss[key.slice(5)] = t;
    else if (key.startsWith('optim.')) out.optimizer[key.slice(6)] = t;
    else if (key === 'rng.torch') out.torchRng = t;
    else throw new UserError(`${path}: unexpected tensor "${key}" in checkpoint`);
  }
  return out;
}

/** True when the file is a safetensors file with normsoftmax checkpoint metadata (reads only the header). */
export function isCheckpointFile(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) !== 8) return false;
    const length = Number(head.readBigUInt64LE(0));
    if (length <= 0 || length > 100_000_000) return false;
    const json = Buffer.alloc(length);
    if (readSync(fd, json, 0, length, 8) !== length) return false;
    const header = JSON.parse(json.toString('utf8')) as { __metadata__?: Record<string, string> };
    return header.__metadata__?.[METADATA_KEY] !== undefined;
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function disposeCheckpoint(c: Checkpoint): void {
  for (const group of [c.model, c.loss, c.optimizer]) for (const t of Object.values(group)) t.dispose();
  c.torchRng?.dispose();
}
