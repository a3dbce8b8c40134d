// A batch source for small data sets held in memory as one uint8 tensor (MNIST-like: every image the
// same size, pixels from Dataset.readRaw). Batches are gathered and normalised on the engine. Training
// augmentation: a horizontal flip and, with `shift` > 0, a random translation by up to `shift` pixels
// each way (zero padding, like torchvision's RandomCrop(size, padding=shift)), both drawn from
// (seed, epoch, batch), so runs resume exactly.

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
  /** HWC pixels of every sample, kept for the shift augmentation. */
  readonly #raw: Uint8Array | undefined;
  readonly #shape: { width: number; height: number; channels: number };

  constructor(
    dataset: Dataset,
    samples: readonly Sample[],
    input: InputSpec,
    readonly o: { seed: number; flip: boolean; shift?: number },
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
    this.#raw = (o.shift ?? 0) > 0 ? all : undefined;
    this.#shape = { width, height, channels };
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

  /** Normalised float images and int64 labels of the given rows, each translated by its shift if given. */
  gather(indices: readonly number[], flips?: readonly boolean[], shifts?: readonly [number, number][]): TrainingBatch {
    return scope(() => {
      const index = tensor(BigInt64Array.from(indices, BigInt));
      const pixels = shifts ? this.#shifted(indices, shifts) : this.pixels.indexSelect(0, index);
      let images = pixels.to('float32').sub(this.#mean).div(this.#std);
      if (flips?.some(Boolean)) {
        const mask = tensor(Uint8Array.from(flips, Number), { dtype: 'bool', shape: [indices.length, 1, 1, 1] });
        images = where(mask, images.flip(3), images);
      }
      return { images, labels: this.labels.indexSelect(0, index) };
    });
  }

  async load(indices: number[], epoch: number, batch: number): Promise<TrainingBatch> {
    let flips: boolean[] | undefined;
    let shifts: [number, number][] | undefined;
    const rng = new Rng(this.o.seed * 1_000_003 + epoch * 10_007 + batch);
    if (this.o.flip) flips = indices.map(() => rng.float() < 0.5);
    const shift = this.o.shift ?? 0;
    if (shift > 0) {
      const draw = () => Math.min(shift, Math.floor(rng.float() * (2 * shift + 1)) - shift);
      shifts = indices.map(() => [draw(), draw()]);
    }
    return this.gather(indices, flips, shifts);
  }

  /** [B, C, H, W] uint8 of the rows, sample i moved right by shifts[i][0] and down by shifts[i][1]. */
  #shifted(indices: readonly number[], shifts: readonly [number, number][]): Tensor {
    const { width, height, channels } = this.#shape;
    const raw = this.#raw;
    if (!raw) throw new Error('InMemoryImages: shifts need the shift option');
    const per = width * height * channels;
    const out = new Uint8Array(per * indices.length);
    indices.forEach((row, i) => {
      const [dx, dy] = shifts[i] as [number, number];
      const src = row * per;
      const dst = i * per;
      for (let y = Math.max(0, dy); y < Math.min(height, height + dy); y++) {
        const x0 = Math.max(0, dx);
        const x1 = Math.min(width, width + dx);
        const from = src + ((y - dy) * width + (x0 - dx)) * channels;
        out.set(raw.subarray(from, from + (x1 - x0) * channels), dst + (y * width + x0) * channels);
      }
    });
    return tensor(out, { shape: [indices.length, height, width, channels] })
      .permute(0, 3, 1, 2)
      .contiguous();
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
