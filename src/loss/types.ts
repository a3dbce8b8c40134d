// The interface every metric-learning loss implements.
import type { Tensor } from '../tensor/index.js';

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
}

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
