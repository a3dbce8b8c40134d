// NormSoftmax (Zhai & Wu, BMVC 2019), spec section 2:
//   logits_ij = < x_i , w_j / ||w_j|| > / T          x_i: unit-norm embedding, w_j: row j of W (C x d)
//   loss      = 1/B sum_i [ log sum_{j in S} exp(logits_ij) - logits_{i, y_i} ]   (mean cross entropy)
// S = all C classes when classFraction f = 1. With f < 1 (class subsampling), S = the batch's classes
// plus negatives drawn uniformly without replacement until |S| = ceil(f * C), and y_i is re-indexed
// into S. Then only W[S] takes part: it is gathered into its own autograd leaf (gatherRows), so
// backward produces an |S| x d gradient, W.grad stays null, and the optimiser updates only those rows
// of W and of its state (lazy row-sparse update, see tensor/row-sparse.ts, which also says how long the
// gathered rows live when no optimiser step takes them). The step therefore
// costs O(|S| d) instead of O(C d) in the loss and in the optimiser.
// S is drawn in beginBatch() from the whole batch's labels when the trainer calls it (with data
// parallelism every rank then softmaxes over the same S), else in forward() from the labels it gets.
import { F, type Generator, keep, type Tensor, tensor, uniform } from '../tensor/index.js';
import { anchorRows, gatherRows } from '../tensor/row-sparse.js';
import type { Device } from '../tensor/tensor.js';
import { Rng } from '../util/rng.js';
import { reindex, sampleClassSubset } from './class-subset.js';
import {
  type BatchContext,
  checkBatch,
  checkClassIndices,
  hostLabels,
  type LossFactory,
  type MetricLoss,
} from './types.js';

export interface NormSoftmaxOptions {
  numClasses: number;
  dim: number;
  /** Softmax temperature T (default 0.05). */
  temperature?: number;
  /** f in (0, 1]: fraction of the classes in each step's softmax (default 1 = full softmax). */
  classFraction?: number;
  /** Generator for W's initialisation (default: the global one, seeded by manualSeed). */
  generator?: Generator;
  /** Generator of the subsampled negatives; save rng.state() with checkpoints to resume exactly (default seed 0). */
  rng?: Rng;
  device?: Device;
}

export class NormSoftmaxLoss implements MetricLoss {
  /** Class weights W, C x d (not normalised; the loss normalises each row). */
  readonly weight: Tensor;
  readonly numClasses: number;
  readonly dim: number;
  readonly temperature: number;
  readonly classFraction: number;
  /** |S| = ceil(f * C). */
  readonly subsetSize: number;
  readonly rng: Rng;
  /** The subset S used by the last forward(), or null when it used the full softmax. */
  lastClasses: readonly number[] | null = null;
  /** S drawn by beginBatch() for the next forward(). */
  #batchClasses: readonly number[] | null = null;

  constructor(o: NormSoftmaxOptions) {
    const { numClasses, dim } = o;
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new RangeError(`NormSoftmaxLoss: numClasses must be a positive integer, got ${numClasses}`);
    }
    if (!Number.isInteger(dim) || dim < 1)
      throw new RangeError(`NormSoftmaxLoss: dim must be a positive integer, got ${dim}`);
    this.temperature = o.temperature ?? 0.05;
    if (!(this.temperature > 0))
      throw new RangeError(`NormSoftmaxLoss: temperature must be > 0, got ${this.temperature}`);
    this.classFraction = o.classFraction ?? 1;
    if (!(this.classFraction > 0 && this.classFraction <= 1)) {
      throw new RangeError(`NormSoftmaxLoss: classFraction must be in (0, 1], got ${this.classFraction}`);
    }
    this.numClasses = numClasses;
    this.dim = dim;
    this.subsetSize = Math.ceil(this.classFraction * numClasses);
    this.rng = o.rng ?? new Rng(0);
    const bound = 1 / Math.sqrt(dim);
    const init = uniform([numClasses, dim], -bound, bound, { generator: o.generator });
    const weight = o.device && o.device !== 'cpu' ? init.to(o.device) : init;
    if (weight !== init) init.dispose();
    this.weight = keep(weight.requiresGrad_(true));
  }

  /** With class subsampling, draws S for the next forward() from the labels of the whole batch. */
  beginBatch(ctx: BatchContext): void {
    this.#batchClasses = null;
    if (this.subsetSize >= this.numClasses) return;
    checkClassIndices('NormSoftmaxLoss', 'label', [...ctx.labels], this.numClasses);
    this.#batchClasses = sampleClassSubset(ctx.labels, this.numClasses, this.subsetSize, this.rng).classes;
  }

  forward(embeddings: Tensor, labels: Tensor): Tensor {
    checkBatch('NormSoftmaxLoss', embeddings, labels, this.dim);
    const ys = hostLabels('NormSoftmaxLoss', labels, this.numClasses);
    const drawn = this.#batchClasses;
    this.#batchClasses = null;
    if (this.subsetSize >= this.numClasses) {
      this.lastClasses = null;
      const logits = embeddings.mm(F.normalize(this.weight).T).div(this.temperature);
      return F.crossEntropy(logits, this.#targets(ys, embeddings));
    }
    if (drawn !== null) {
      this.lastClasses = drawn;
      return this.#subsetLoss(embeddings, drawn, reindex(ys, drawn));
    }
    const subset = sampleClassSubset(ys, this.numClasses, this.subsetSize, this.rng);
    this.lastClasses = subset.classes;
    return this.#subsetLoss(embeddings, subset.classes, subset.targets);
  }

  /**
   * The loss with the softmax over the given classes only (they must include every label of the
   * batch); W's rows get row gradients as in a subsampled forward().
   */
  forwardOnClasses(embeddings: Tensor, labels: Tensor, classes: readonly number[]): Tensor {
    checkBatch('NormSoftmaxLoss', embeddings, labels, this.dim);
    checkClassIndices('NormSoftmaxLoss', 'class', [...classes], this.numClasses);
    if (new Set(classes).size !== classes.length) throw new RangeError('NormSoftmaxLoss: classes must be distinct');
    const ys = hostLabels('NormSoftmaxLoss', labels, this.numClasses);
    return this.#subsetLoss(embeddings, classes, reindex(ys, classes));
  }

  parameters(): Tensor[] {
    return [this.weight];
  }

  namedParameters(): Record<string, Tensor> {
    return { weight: this.weight };
  }

  #subsetLoss(embeddings: Tensor, classes: readonly number[], targets: number[]): Tensor {
    const rows = gatherRows(this.weight, classes);
    const logits = embeddings.mm(F.normalize(rows).T).div(this.temperature);
    // The gathered rows live while the returned loss does (backward may come after this scope).
    return anchorRows(rows, F.crossEntropy(logits, this.#targets(targets, embeddings)));
  }

  #targets(ys: readonly number[], like: Tensor): Tensor {
    const t = tensor(BigInt64Array.from(ys, BigInt));
    return like.device === 'cpu' ? t : t.to(like.device);
  }
}

/** The registry's NormSoftmax: its subsampling RNG is seeded from the run's seed. */
export const createNormSoftmax: LossFactory = ({ numClasses, dim, options }) =>
  new NormSoftmaxLoss({
    numClasses,
    dim,
    temperature: options.temperature,
    classFraction: options.classFraction,
    rng: new Rng(options.seed + 1),
    device: options.device as Device,
  });
