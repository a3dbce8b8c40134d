// The normsoftmax checkpoint container: one safetensors file whose tensors are grouped by prefix and whose
// JSON metadata (key "normsoftmax") says what the file holds. Training writes the full record
// (src/train/checkpoint.ts); embedding, indexing and export read only the model and its identity.
//   tensors:  model.<embedder state-dict key>, loss.<name>, optim.<key>, rng.torch (uint8)
//   metadata: {"normsoftmax": JSON of the header below plus the trainer's own fields}
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import type { Tensor } from '../tensor/index.js';
import { InputError } from '../util/errors.js';
import { loadSafetensors, saveSafetensors } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'normsoftmax-checkpoint';
export const CHECKPOINT_VERSION = 1;
const METADATA_KEY = 'normsoftmax';

/** What every checkpoint says about itself: enough to rebuild the embedder and its input pipeline. */
export interface CheckpointHeader {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  config: { arch: string; dim: number; resize: number; crop: number };
  /** Epochs completed, warm-up included. */
  epochsDone: number;
}

export interface CheckpointFile<M extends CheckpointHeader = CheckpointHeader> {
  meta: M;
  model: Record<string, Tensor>;
  loss: Record<string, Tensor>;
  optimizer: Record<string, Tensor>;
  torchRng: Tensor | null;
}

export function writeCheckpointFile(path: string, c: CheckpointFile<CheckpointHeader>): void {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(c.model)) tensors[`model.${k}`] = t;
  for (const [k, t] of Object.entries(c.loss)) tensors[`loss.${k}`] = t;
  for (const [k, t] of Object.entries(c.optimizer)) tensors[`optim.${k}`] = t;
  if (c.torchRng) tensors['rng.torch'] = c.torchRng;
  saveSafetensors(path, tensors, { [METADATA_KEY]: JSON.stringify(c.meta) });
}

/** Reads a checkpoint; errors name the file. The caller disposes the tensors (disposeCheckpointFile). */
export function readCheckpointFile<M extends CheckpointHeader = CheckpointHeader>(path: string): CheckpointFile<M> {
  if (!existsSync(path)) throw new InputError(`${path}: checkpoint not found`);
  const { tensors, metadata } = loadSafetensors(path);
  const fail = (message: string): never => {
    for (const t of Object.values(tensors)) t.dispose();
    throw new InputError(`${path}: ${message}`);
  };
  const raw = metadata[METADATA_KEY];
  if (raw === undefined) fail('not a normsoftmax checkpoint (a bare weights file? pass --arch and --dim)');
  let meta: M;
  try {
    meta = JSON.parse(raw as string) as M;
  } catch {
    return fail('the checkpoint metadata is not valid JSON');
  }
  if (meta.format !== CHECKPOINT_FORMAT || !(meta.version <= CHECKPOINT_VERSION)) {
    fail(`unsupported checkpoint format ${meta.format} v${meta.version}`);
  }
  const out: CheckpointFile<M> = { meta, model: {}, loss: {}, optimizer: {}, torchRng: null };
  for (const key of Object.keys(tensors)) {
    if (!/^(model|loss|optim)\.|^rng\.torch$/.test(key)) fail(`unexpected tensor "${key}" in checkpoint`);
  }
  for (const [key, t] of Object.entries(tensors)) {
    if (key.startsWith('model.')) out.model[key.slice(6)] = t;
    else if (key.startsWith('loss.')) out.loss[key.slice(5)] = t;
    else if (key.startsWith('optim.')) out.optimizer[key.slice(6)] = t;
    else out.torchRng = t;
  }
  return out;
}

/** True when the file is a safetensors file with normsoftmax checkpoint metadata (reads only the header). */
export function isCheckpointFile(path: string): boolean {
  return checkpointMetadata(path) !== null;
}

/** The checkpoint's metadata read from the header alone (no tensors), or null when there is none to read. */
export function readCheckpointMeta(path: string): Record<string, unknown> | null {
  const raw = checkpointMetadata(path);
  if (raw === null) return null;
  try {
    const meta = JSON.parse(raw) as unknown;
    return typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The raw "normsoftmax" metadata string of a safetensors header, or null. */
function checkpointMetadata(path: string): string | null {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) !== 8) return null;
    const length = Number(head.readBigUInt64LE(0));
    if (length <= 0 || length > 100_000_000) return null;
    const json = Buffer.alloc(length);
    if (readSync(fd, json, 0, length, 8) !== length) return null;
    const header = JSON.parse(json.toString('utf8')) as { __metadata__?: Record<string, string> };
    return header.__metadata__?.[METADATA_KEY] ?? null;
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function disposeCheckpointFile(c: CheckpointFile<CheckpointHeader>): void {
  for (const group of [c.model, c.loss, c.optimizer]) for (const t of Object.values(group)) t.dispose();
  c.torchRng?.dispose();
}
