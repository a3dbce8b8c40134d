// Turns batches of sample indices into tensors: images [B, C, H, W] float32, labels [B] int64.
// Images are decoded in parallel (worker threads, or sharp's libuv threads when workers = 0), and the
// next `prefetch` batches are prepared while the caller trains on the current one. Augmentation is
// seeded per (seed, epoch, batch index, position), so it does not depend on decode order and a run
// resumed at any batch sees the same crops and flips.
import { availableParallelism } from 'node:os';
import { type Tensor, tensor } from '../../tensor/index.js';
import { type AugmentDraws, augmentDraws } from '../image/augment.js';
import { BadImageError } from '../image/bad-image-error.js';
import { loadPixels } from '../image/source.js';
import { draftTarget, type TransformConfig, type TransformMode, validateTransform } from '../image/transform-config.js';
import type { Dataset, Sample } from '../types.js';
import { Limiter } from './limiter.js';
import { PixelCache } from './pixel-cache.js';
import { type ImageResult, outChannelsOf, processPixels } from './process-image.js';
import { DecodePool } from './worker-pool.js';

export interface BatchLoaderOptions {
  /** Only readRaw is used: samples without a file (MNIST-like) are read through it, on the main thread. */
  dataset: Pick<Dataset, 'readRaw'>;
  /** The split's samples; batches hold indices into this array. */
  samples: readonly Sample[];
  transform: TransformConfig;
  /** train: random crop + flip; eval: centre crop. */
  mode: TransformMode;
  /** Seed of the augmentation draws (default 0). */
  seed?: number;
  /** Batches prepared while the caller holds one (default 2). */
  prefetch?: number;
  /**
   * Decode worker threads at most (default: cores, at most 4; never more than cores: decoding is
   * CPU-bound, so more threads only add their start-up, ~0.3 s of CPU each, and contention); 0 decodes
   * on the main thread. They start with the first image.
   */
  workers?: number;
  /**
   * Images in flight at once. Default with workers: every image of the batches being prepared
   * ((prefetch + 1) x the first batch's size), all handed to the workers up front, so that they keep
   * decoding while this thread is busy (a forward pass blocks it: jobs it has not posted yet would
   * wait); without workers: 2 x cores.
   */
  concurrency?: number;
  /** Leave out images that cannot be read (a warning each, and a count) instead of stopping. */
  skipBadImages?: boolean;
  /** Where warnings go (default: one line on stderr). */
  onWarning?: (message: string) => void;
  /** Keep resized uint8 images in memory up to this many bytes (LRU; default 0 = off). */
  cacheBytes?: number;
}

export interface BatchPosition {
  /** Epoch number that seeds the augmentation (default 0). */
  epoch?: number;
  /** Index of the first batch the iterable yields, within the epoch (default 0; set it when resuming). */
  firstBatch?: number;
  /** Called right after each batch is drawn from the iterable; its value comes back as batch.snapshot. */
  snapshot?: () => unknown;
}

export interface LoadedBatch {
  images: Tensor;
  labels: Tensor;
  /** The samples in the batch (bad images left out when skipping). */
  samples: Sample[];
  /** Their indices in the split. */
  indices: number[];
  epoch: number;
  /** Index of the batch within the epoch. */
  batch: number;
  /**
   * What BatchPosition.snapshot returned right after this batch was drawn. With prefetching the
   * sampler runs ahead of training; a checkpoint taken after this batch should save this, not the
   * sampler's current state.
   */
  snapshot: unknown;
  /** Frees images and labels. */
  dispose(): void;
}

type Outcome = ImageResult | BadImageError;

interface PendingBatch {
  batch: number;
  indices: number[];
  snapshot: unknown;
  outcomes: Promise<Outcome[]>;
}

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min)
    throw new RangeError(`batch loader: ${name} must be an integer >= ${min}, got ${v}`);
}

export class BatchLoader {
  readonly prefetch: number;
  readonly workers: number;
  #concurrency: number | null;
  private readonly seed: number;
  private readonly cache: PixelCache | null;
  private limiter: Limiter | null = null;
  private pool: DecodePool | null = null;
  private readonly badPaths: string[] = [];
  private closed = false;

  constructor(private readonly options: BatchLoaderOptions) {
    validateTransform(options.transform);
    const cores = availableParallelism();
    this.seed = options.seed ?? 0;
    this.prefetch = options.prefetch ?? 2;
    this.workers = options.workers === undefined ? Math.min(cores, 4) : Math.min(options.workers, cores);
    this.#concurrency = options.concurrency ?? (this.workers > 0 ? null : 2 * cores);
    checkCount('seed', this.seed, 0);
    checkCount('prefetch', this.prefetch, 0);
    checkCount('workers', this.workers, 0);
    if (this.#concurrency !== null) checkCount('concurrency', this.#concurrency, 1);
    const cacheBytes = options.cacheBytes ?? 0;
    this.cache = cacheBytes > 0 ? new PixelCache(cacheBytes) : null;
  }

  /** Images in flight at most (null until the first batch sets the default). */
  get concurrency(): number | null {
    return this.#concurrency;
  }

  /** Paths of the images left out so far (skipBadImages), in batch order. */
  get skippedImages(): readonly string[] {
    return this.badPaths;
  }

  /** Decode workers running (0 until the first image, and after close()). */
  get startedWorkers(): number {
    return this.pool?.started ?? 0;
  }

  get cacheStats(): { hits: number; misses: number; bytes: number } | null {
    return this.cache && { hits: this.cache.hits, misses: this.cache.misses, bytes: this.cache.bytes };
  }

  /** Loads every batch of index arrays in order, preparing the next `prefetch` ones in the background. */
  async *batches(indexBatches: Iterable<number[]>, position: BatchPosition = {}): AsyncGenerator<LoadedBatch> {
    if (this.closed) throw new Error('batch loader is closed');
    const epoch = position.epoch ?? 0;
    let batch = position.firstBatch ?? 0;
    checkCount('epoch', epoch, 0);
    checkCount('firstBatch', batch, 0);
    const source = indexBatches[Symbol.iterator]();
    const ahead: PendingBatch[] = [];
    const badBefore = this.badPaths.length;
    let exhausted = false;
    // Keeps the batch to hand out next plus `prefetch` more in preparation.
    const fill = () => {
      while (!exhausted && ahead.length < this.prefetch + 1) {
        const next = source.next();
        if (next.done) {
          exhausted = true;
          return;
        }
        const indices = [...next.value];
        const snapshot = position.snapshot?.();
        ahead.push({ batch, indices, snapshot, outcomes: this.startBatch(indices, epoch, batch) });
        batch++;
      }
    };
    try {
      for (fill(); ahead.length > 0; fill()) {
        const pending = ahead.shift() as PendingBatch;
        const outcomes = await pending.outcomes;
        const loaded = this.assemble(pending, outcomes, epoch);
        if (loaded) yield loaded;
      }
    } finally {
      // Batches still in flight when the caller stops early: let them settle quietly.
      for (const p of ahead) p.outcomes.catch(() => {});
      const skipped = this.badPaths.length - badBefore;
      if (skipped > 0) this.warn(`skipped ${skipped} unreadable image${skipped === 1 ? '' : 's'} in epoch ${epoch}`);
    }
  }

  /** Stops the decode workers. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
    this.pool = null;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private warn(message: string): void {
    if (this.options.onWarning) this.options.onWarning(message);
    else process.stderr.write(`normsoftmax: warning: ${message}\n`);
  }

  private startBatch(indices: number[], epoch: number, batch: number): Promise<Outcome[]> {
    const { samples } = this.options;
    const jobs = indices.map((index, position): Promise<Outcome> => {
      const sample = samples[index];
      if (!Number.isInteger(index) || sample === undefined) {
        return Promise.reject(
          new RangeError(`batch ${batch}: sample index ${index} is outside 0..${samples.length - 1}`),
        );
      }
      const draws = augmentDraws({ seed: this.seed, epoch, batch, position });
      this.#concurrency ??= Math.max(2 * this.workers, (this.prefetch + 1) * indices.length);
      this.limiter ??= new Limiter(this.#concurrency);
      return this.limiter
        .run(() => this.loadOne(sample, draws))
        .catch((e: unknown) => {
          if (e instanceof BadImageError && this.options.skipBadImages) return e;
          throw e;
        });
    });
    const all = Promise.all(jobs);
    all.catch(() => {}); // observed when the batch is reached; avoids an unhandled rejection meanwhile
    return all;
  }

  private async loadOne(sample: Sample, draws: AugmentDraws): Promise<ImageResult> {
    const { transform: config, mode, dataset } = this.options;
    const cached = this.cache?.get(sample.path);
    if (cached) return processPixels(sample.path, cached, { config, mode, draws, keepResized: false });
    const keepResized = this.cache !== null;
    let result: ImageResult;
    if (dataset.readRaw || this.workers === 0) {
      const pixels = await loadPixels(sample, dataset.readRaw, outChannelsOf(config), { draftTo: draftTarget(config) });
      result = processPixels(sample.path, pixels, { config, mode, draws, keepResized });
    } else {
      this.pool ??= new DecodePool(this.workers, Math.ceil((this.#concurrency as number) / this.workers));
      result = await this.pool.run(sample.path, { config, mode, draws, keepResized });
    }
    if (result.resized) this.cache?.set(sample.path, result.resized);
    return result;
  }

  private assemble(pending: PendingBatch, outcomes: Outcome[], epoch: number): LoadedBatch | null {
    const kept: { result: ImageResult; index: number; sample: Sample }[] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome instanceof BadImageError) {
        this.badPaths.push(outcome.path);
        this.warn(`skipping ${outcome.message}`);
        return;
      }
      const index = pending.indices[i] as number;
      kept.push({ result: outcome, index, sample: this.options.samples[index] as Sample });
    });
    const first = kept[0];
    if (first === undefined) return null;
    const shape = first.result.shape;
    const per = first.result.chw.length;
    const data = new Float32Array(per * kept.length);
    kept.forEach(({ result, sample }, k) => {
      if (result.shape.join() !== shape.join()) {
        throw new BadImageError(
          sample.path,
          `gives a ${result.shape.join('x')} input but the batch is ${shape.join('x')}; set a resize or crop size`,
        );
      }
      data.set(result.chw, k * per);
    });
    const samples = kept.map((k) => k.sample);
    const images = tensor(data, { shape: [kept.length, ...shape] });
    const labels = tensor(
      BigInt64Array.from(samples, (s) => BigInt(s.label)),
      { shape: [samples.length] },
    );
    return {
      images,
      labels,
      samples,
      indices: kept.map((k) => k.index),
      epoch,
      batch: pending.batch,
      snapshot: pending.snapshot,
      dispose() {
        images.dispose();
        labels.dispose();
      },
    };
  }
}
