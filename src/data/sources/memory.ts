// A batch source for small data sets held in memory as one uint8 tensor (MNIST-like: every image the
// same size, pixels from Dataset.readRaw). Batches are gathered and normalised on the engine; the only
// augmentation is a horizontal flip drawn from (seed, epoch, batch), so runs resume exactly.

import type { InputSpec } from '../../nn/input-spec.js';
import { keep, scope, type Tensor, tensor, where } from '../../tensor/index.js';
import { InputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import type { Dataset, Sample } from '../types.js';
import type { BatchSource, TrainingBatch } from './types.js';

export class InMemoryImages implements BatchSource {
  /** [N, C, H, W] uint8. */
  readonly pixels: Tensor;
  readonly labels: Tensor;
  readonly #mean: Tensor;
  readonly #std: Tensor;

  constructor(
    dataset: Dataset,
    samples: readonly Sample[],
    input: InputSpec,
    readonly o: { seed: number; flip: boolean },
  ) {
    const readRaw = dataset.readRaw;
    if (!readRaw) throw new Error(`${dataset.name}: in-memory batches need a data set with readRaw (MNIST-like)`);
    if (samples.length === 0) throw new InputError(`${dataset.name}: the split has no images`);
    const first = readRaw(samples[0] as Sample);
    const { width, height, channels } = first;
    if (channels !== input.channels) {
      throw new InputError(`${dataset.name}: images have ${channels} channels, the model expects ${input.channels}`);
    }
    const per = width * height * channels;
    const all = new Uint8Array(per * samples.length);
    samples.forEach((s, i) => {
      const img = readRaw(s);
      if (img.width !== width || img.height !== height || img.channels !== channels) {
        throw new InputError(
          `${dataset.name}: ${s.path} is ${img.width}x${img.height}x${img.channels}, expected ${width}x${height}x${channels}`,
        );
      }
      all.set(img.data, i * per);
    });
    // HWC -> CHW once for the whole set.
    this.pixels = keep(
      scope(() =>
        tensor(all, { shape: [samples.length, height, width, channels] })
          .permute(0, 3, 1, 2)
          .contiguous(),
      ),
    );
    this.labels = keep(tensor(BigInt64Array.from(samples, (s) => BigInt(s.label))));
    const scale = input.range === 255 ? 1 : 1 / 255;
    this.#mean = keep(
      tensor(
        input.mean.map((m) => m / scale),
        { shape: [1, channels, 1, 1] },
      ),
    );
    this.#std = keep(
      tensor(
        input.std.map((s) => s / scale),
        { shape: [1, channels, 1, 1] },
      ),
    );
  }

  get size(): number {
    return this.pixels.size(0);
  }

  /** Normalised float images and int64 labels of the given rows. */
  gather(indices: readonly number[], flips?: readonly boolean[]): TrainingBatch {
    return scope(() => {
      const index = tensor(BigInt64Array.from(indices, BigInt));
      let images = this.pixels.indexSelect(0, index).to('float32').sub(this.#mean).div(this.#std);
      if (flips?.some(Boolean)) {
        const mask = tensor(Uint8Array.from(flips, Number), { dtype: 'bool', shape: [indices.length, 1, 1, 1] });
        images = where(mask, images.flip(3), images);
      }
      return { images, labels: this.labels.indexSelect(0, index) };
    });
  }

  async load(indices: number[], epoch: number, batch: number): Promise<TrainingBatch> {
    let flips: boolean[] | undefined;
    if (this.o.flip) {
      const rng = new Rng(this.o.seed * 1_000_003 + epoch * 10_007 + batch);
      flips = indices.map(() => rng.float() < 0.5);
    }
    return this.gather(indices, flips);
  }

  /** All rows in order, in batches (for embedding a whole split). */
  *batches(batchSize: number): Generator<TrainingBatch> {
    for (let start = 0; start < this.size; start += batchSize) {
      const end = Math.min(this.size, start + batchSize);
      yield this.gather(Array.from({ length: end - start }, (_, i) => start + i));
    }
  }

  dispose(): void {
    for (const t of [this.pixels, this.labels, this.#mean, this.#std]) t.dispose();
  }
}
