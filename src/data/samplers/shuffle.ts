// Plain seeded shuffling: each epoch is a fresh permutation of all samples cut into batches of
// batchSize; the last, smaller batch is dropped when dropLast (default false, as torch's DataLoader).
// The state holds the RNG as it was at the start of the current epoch, so restore() regenerates that
// epoch's permutation and continues exactly from the saved batch.
import { Rng, type RngState } from '../../util/rng.js';
import { type BatchSampler, checkLabels, checkPositiveInt, checkState, type SamplerState } from './types.js';

export interface ShuffleOptions {
  labels: ArrayLike<number>;
  batchSize: number;
  dropLast?: boolean;
  seed?: number;
}

const WHAT = 'shuffle sampler';

export class ShuffleSampler implements BatchSampler {
  readonly batchesPerEpoch: number;
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly #size: number;
  readonly #config: SamplerState['config'];
  #epochStart: RngState;
  /** The current epoch's permutation and the RNG state after drawing it (the next epoch's start). */
  #perm: { order: number[]; nextStart: RngState } | null = null;
  #epoch = 0;
  #batch = 0;

  constructor(o: ShuffleOptions) {
    checkLabels(WHAT, o.labels);
    checkPositiveInt(WHAT, '--batch-size', o.batchSize);
    this.#size = o.labels.length;
    this.batchSize = o.batchSize;
    this.dropLast = o.dropLast ?? false;
    this.batchesPerEpoch = this.dropLast ? Math.floor(this.#size / o.batchSize) : Math.ceil(this.#size / o.batchSize);
    if (this.batchesPerEpoch === 0) {
      throw new RangeError(`${WHAT}: ${this.#size} samples are fewer than one batch of ${o.batchSize} (drop last)`);
    }
    this.#config = { samples: this.#size, batchSize: o.batchSize, dropLast: this.dropLast };
    this.#epochStart = new Rng(o.seed ?? 0).state();
  }

  get epoch(): number {
    return this.#epoch;
  }
  get batchInEpoch(): number {
    return this.#batch;
  }

  nextBatch(): number[] {
    const perm = this.#permutation();
    const start = this.#batch * this.batchSize;
    const batch = perm.order.slice(start, Math.min(start + this.batchSize, this.#size));
    if (++this.#batch === this.batchesPerEpoch) {
      this.#batch = 0;
      this.#epoch++;
      this.#epochStart = perm.nextStart;
      this.#perm = null;
    }
    return batch;
  }

  *epochBatches(): Generator<number[]> {
    const epoch = this.#epoch;
    while (this.#epoch === epoch) yield this.nextBatch();
  }

  state(): SamplerState {
    return {
      kind: 'shuffle',
      config: { ...this.#config },
      epoch: this.#epoch,
      batch: this.#batch,
      rng: { ...this.#epochStart, s: [...this.#epochStart.s] },
    };
  }

  restore(state: SamplerState): void {
    checkState(WHAT, state, 'shuffle', this.#config, this.batchesPerEpoch);
    this.#epochStart = Rng.fromState(state.rng).state();
    this.#epoch = state.epoch;
    this.#batch = state.batch;
    this.#perm = null;
  }

  #permutation(): { order: number[]; nextStart: RngState } {
    if (this.#perm === null) {
      const rng = Rng.fromState(this.#epochStart);
      const order = rng.shuffle(Array.from({ length: this.#size }, (_, i) => i));
      this.#perm = { order, nextStart: rng.state() };
    }
    return this.#perm;
  }
}
