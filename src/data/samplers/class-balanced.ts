// The paper's class-balanced sampler (spec section 3). Each batch draws batchSize / imagesPerClass
// classes uniformly without replacement, then imagesPerClass images of each class: without replacement
// when the class has at least imagesPerClass images, with replacement otherwise (the reference always
// draws with replacement; drawing without replacement when possible avoids duplicate images in a
// batch). Batches are independent; an epoch is floor(N / batchSize) batches. The state is the RNG plus
// the position, so restore() continues exactly, mid-epoch included.
import { Rng } from '../../util/rng.js';
import { type BatchSampler, checkLabels, checkPositiveInt, checkState, type SamplerState } from './types.js';

export interface ClassBalancedOptions {
  labels: ArrayLike<number>;
  batchSize: number;
  imagesPerClass: number;
  seed?: number;
}

const WHAT = 'class-balanced sampler';

export class ClassBalancedSampler implements BatchSampler {
  readonly batchesPerEpoch: number;
  readonly classesPerBatch: number;
  readonly imagesPerClass: number;
  /** The distinct labels, ascending, and the sample indices of each. */
  readonly classes: readonly number[];
  readonly #members: readonly number[][];
  readonly #config: SamplerState['config'];
  #rng: Rng;
  #epoch = 0;
  #batch = 0;

  constructor(o: ClassBalancedOptions) {
    checkLabels(WHAT, o.labels);
    checkPositiveInt(WHAT, '--batch-size', o.batchSize);
    checkPositiveInt(WHAT, '--images-per-class', o.imagesPerClass);
    if (o.batchSize % o.imagesPerClass !== 0) {
      throw new RangeError(
        `${WHAT}: --batch-size ${o.batchSize} must be a multiple of --images-per-class ${o.imagesPerClass}`,
      );
    }
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < o.labels.length; i++) {
      const y = o.labels[i] as number;
      const list = byClass.get(y);
      if (list) list.push(i);
      else byClass.set(y, [i]);
    }
    this.classes = [...byClass.keys()].sort((a, b) => a - b);
    this.#members = this.classes.map((c) => byClass.get(c) as number[]);
    this.imagesPerClass = o.imagesPerClass;
    this.classesPerBatch = o.batchSize / o.imagesPerClass;
    if (this.classesPerBatch > this.classes.length) {
      throw new RangeError(
        `${WHAT}: a batch needs ${this.classesPerBatch} classes (--batch-size / --images-per-class) but the data has ${this.classes.length}`,
      );
    }
    this.batchesPerEpoch = Math.floor(o.labels.length / o.batchSize);
    if (this.batchesPerEpoch === 0) {
      throw new RangeError(`${WHAT}: ${o.labels.length} samples are fewer than one batch of ${o.batchSize}`);
    }
    this.#config = {
      samples: o.labels.length,
      classes: this.classes.length,
      batchSize: o.batchSize,
      imagesPerClass: o.imagesPerClass,
    };
    this.#rng = new Rng(o.seed ?? 0);
  }

  get epoch(): number {
    return this.#epoch;
  }
  get batchInEpoch(): number {
    return this.#batch;
  }

  nextBatch(): number[] {
    const batch: number[] = [];
    for (const k of this.#rng.sample(this.classes.length, this.classesPerBatch)) {
      const members = this.#members[k] as number[];
      if (members.length >= this.imagesPerClass) {
        for (const j of this.#rng.sample(members.length, this.imagesPerClass)) batch.push(members[j] as number);
      } else {
        for (let i = 0; i < this.imagesPerClass; i++) batch.push(members[this.#rng.int(members.length)] as number);
      }
    }
    if (++this.#batch === this.batchesPerEpoch) {
      this.#batch = 0;
      this.#epoch++;
    }
    return batch;
  }

  *epochBatches(): Generator<number[]> {
    const epoch = this.#epoch;
    while (this.#epoch === epoch) yield this.nextBatch();
  }

  state(): SamplerState {
    return {
      kind: 'class-balanced',
      config: { ...this.#config },
      epoch: this.#epoch,
      batch: this.#batch,
      rng: this.#rng.state(),
    };
  }

  restore(state: SamplerState): void {
    checkState(WHAT, state, 'class-balanced', this.#config, this.batchesPerEpoch);
    this.#rng = Rng.fromState(state.rng);
    this.#epoch = state.epoch;
    this.#batch = state.batch;
  }
}
