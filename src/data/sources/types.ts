// What the trainer and the embedder read images through: batches of normalised image tensors with labels.
import type { Tensor } from '../../tensor/index.js';

export interface TrainingBatch {
  /** [B, C, H, W] float32, normalised as the model's input spec says. */
  images: Tensor;
  /** [B] int64. */
  labels: Tensor;
}

export interface BatchSource {
  /** The batch of these sample indices, augmented as batch `batch` of epoch `epoch` (deterministic). */
  load(indices: number[], epoch: number, batch: number): Promise<TrainingBatch>;
}

export interface DisposableSource extends BatchSource {
  /** The samples in order, in batches, with the eval transform (for embedding a split). */
  ordered(batchSize: number): AsyncGenerator<TrainingBatch>;
  dispose?(): void | Promise<void>;
}

/** The settings of the input pipeline: augmentation seed, resize/crop sizes (0 = none), decode workers. */
export interface PipelineOptions {
  seed: number;
  resize: number;
  crop: number;
  workers: number;
  skipBadImages: boolean;
  /** In-memory training images: random translation by up to this many pixels (0 = none). */
  shift?: number;
  /** Decode JPEGs at reduced size where it still covers the resize (Pillow's draft; default false). */
  jpegDraft?: boolean;
}

/** The paper's pipeline (resize 256, crop 224) with evaluation settings. */
export const DEFAULT_PIPELINE: Readonly<PipelineOptions> = {
  seed: 0,
  resize: 256,
  crop: 224,
  workers: 4,
  skipBadImages: false,
};
