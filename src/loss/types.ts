// The interface every metric-learning loss implements, what the trainer tells it about each batch, and
// how the registry (index.ts) builds one.
import type { Tensor } from '../tensor/index.js';
import type { Rng } from '../util/rng.js';

/** What the trainer knows about the batch it is about to train on (given to beginBatch). */
export interface BatchContext {
  /**
   * The labels of the whole batch, in sampler order: with data parallelism, every rank's images (the same
   * on every rank, so a choice made from them is the same everywhere); in one process, the batch's labels.
   */
  readonly labels: readonly number[];
  /** 0-based epoch, warm-up epochs first. */
  readonly epoch: number;
  /** Batches trained before this one (the global step count). */
  readonly step: number;
  /** This process's rank and the number of ranks (0 and 1 in one process). */
  readonly rank: number;
  readonly worldSize: number;
}

export interface MetricLoss {
  /** Mean loss of a batch: embeddings [B, d] (float), labels [B] (integer class indices 0..C-1). */
  forward(embeddings: Tensor, labels: Tensor): Tensor;
  /** The loss's own trainable tensors (class weights, proxies), to give to the optimiser. */
  parameters(): Tensor[];
  /** The same tensors by name, for checkpoints (e.g. { weight } for NormSoftmax). */
  namedParameters(): Record<string, Tensor>;
  /**
   * True when the last forward() had nothing to learn from (triplet: no valid triplet in the batch); its
   * loss was then a zero connected to the embeddings (zero gradients). Absent for losses that never are.
   */
  readonly lastForwardEmpty?: boolean;
  /**
   * Called by the trainer before the forward of each batch: a loss that draws something per batch (the
   * class subset S of NormSoftmax) draws it here, from the whole batch, so that every data-parallel rank
   * draws the same. forward() without a beginBatch() draws from its own labels.
   */
  beginBatch?(ctx: BatchContext): void;
  /** The loss's own RNG, saved with checkpoints so that a resumed run draws what the straight run does. */
  readonly rng?: Rng;
}

/**
 * The training settings a loss may read (TrainConfig has each of them). A loss that needs a new setting
 * adds it here and to src/train/config-schema.ts.
 */
export interface LossSettings {
  /** NormSoftmax's softmax temperature. */
  temperature: number;
  /** NormSoftmax's class subsampling: the fraction of the classes in each softmax, (0, 1]. */
  classFraction: number;
  /** The triplet margin. */
  margin: number;
  /** The run's seed (a loss's own RNG derives from it). */
  seed: number;
  /** cpu, cuda or cuda:N. */
  device: string;
}

export interface LossArgs {
  /** Classes in the training split (labels are 0..numClasses-1). */
  numClasses: number;
  /** Embedding size. */
  dim: number;
  options: LossSettings;
}

/** Builds a loss for a training run (the registry, index.ts, maps names to these). */
export type LossFactory = (args: LossArgs) => MetricLoss;

/** Checks the shapes the losses expect; messages name the argument. */
export function checkBatch(what: string, embeddings: Tensor, labels: Tensor, dim?: number): void {
  if (embeddings.rank !== 2) throw new RangeError(`${what}: embeddings must be [B, d], got [${embeddings.shape}]`);
  if (dim !== undefined && embeddings.size(1) !== dim) {
    throw new RangeError(`${what}: embeddings have dimension ${embeddings.size(1)}, the loss was built for ${dim}`);
  }
  if (labels.rank !== 1 || labels.size(0) !== embeddings.size(0)) {
    throw new RangeError(`${what}: labels must be [${embeddings.size(0)}], got [${labels.shape}]`);
  }
  if (labels.dtype !== 'int64' && labels.dtype !== 'int32') {
    throw new RangeError(`${what}: labels must be int64 or int32, got ${labels.dtype}`);
  }
}

/** The labels as host numbers, each checked to lie in [0, numClasses). */
export function hostLabels(what: string, labels: Tensor, numClasses: number): number[] {
  return checkClassIndices(what, 'label', labels.toArray(), numClasses);
}

export function checkClassIndices(what: string, noun: string, values: number[], numClasses: number): number[] {
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new RangeError(`${what}: ${noun} ${v} is outside [0, ${numClasses})`);
    }
  }
  return values;
}
