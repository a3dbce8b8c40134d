// What the training loop needs from a batch sampler: batches of sample indices, epoch by epoch, and a
// JSON state that resumes the exact same sequence (also mid-epoch).
import type { RngState } from '../../util/rng.js';

export interface SamplerState {
  kind: string;
  /** The sampler's settings, checked on restore so that a state is not replayed on other data. */
  config: Record<string, number | boolean>;
  /** Current epoch (0-based) and the batches of it already drawn. */
  epoch: number;
  batch: number;
  rng: RngState;
}

export interface BatchSampler {
  readonly batchesPerEpoch: number;
  readonly epoch: number;
  /** Batches of the current epoch already drawn; after an epoch's last batch, epoch moves on and this is 0. */
  readonly batchInEpoch: number;
  /** The next batch (indices into the labels array). */
  nextBatch(): number[];
  /** The remaining batches of the current epoch. */
  epochBatches(): Generator<number[]>;
  state(): SamplerState;
  restore(state: SamplerState): void;
}

/** Checks a labels array: non-empty, non-negative integers. */
export function checkLabels(what: string, labels: ArrayLike<number>): void {
  if (labels.length === 0) throw new RangeError(`${what}: no samples`);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    if (!Number.isInteger(y) || y < 0)
      throw new RangeError(`${what}: label of sample ${i} is ${y}, expected an integer >= 0`);
  }
}

export function checkPositiveInt(what: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what}: ${name} must be a positive integer, got ${v}`);
}

/** Validates the common part of a saved state against the sampler it is restored into. */
export function checkState(
  what: string,
  s: SamplerState,
  kind: string,
  config: SamplerState['config'],
  batchesPerEpoch: number,
): void {
  if (s?.kind !== kind) throw new RangeError(`${what}: state is from a "${s?.kind}" sampler`);
  for (const [k, v] of Object.entries(config)) {
    if (s.config?.[k] !== v) throw new RangeError(`${what}: state has ${k} = ${s.config?.[k]}, this sampler has ${v}`);
  }
  if (
    !Number.isInteger(s.epoch) ||
    s.epoch < 0 ||
    !Number.isInteger(s.batch) ||
    s.batch < 0 ||
    s.batch >= batchesPerEpoch
  ) {
    throw new RangeError(`${what}: state position epoch ${s.epoch}, batch ${s.batch} is invalid`);
  }
}
