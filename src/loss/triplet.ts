// Triplet loss with semi-hard negative mining (Schroff et al., FaceNet 2015), as TF-addons'
// triplet_semihard_loss. With d the pairwise Euclidean distance, for every anchor a and positive p
// (same label, p != a):
//   n*(a,p) = argmin_n { d(a,n) : y_n != y_a, d(a,n) > d(a,p) }   (the semi-hard negative)
//             or, when no negative is farther than p, the farthest negative of a
//   loss    = 1/|P| sum_{(a,p) in P} max(0, margin + d(a,p) - d(a, n*(a,p)))
// Gradients flow through d(a,p) and the selected d(a,n*), as in TF-addons.
// A batch without a valid triplet (no two images of a class, or a single class: common with a shuffle
// sampler) has nothing to learn from: its loss is a zero that is still connected to the embeddings, so
// backward() works and gives zero gradients, as pytorch-metric-learning does (its 0/0 used to be NaN).
// lastForwardEmpty says so, for the trainer's count.
import { eye, type Tensor, where } from '../tensor/index.js';
import { pairwiseDistance } from './pairwise-distance.js';
import { checkBatch, type LossFactory, type MetricLoss } from './types.js';

export interface TripletOptions {
  /** Margin (default 1.0, TF-addons' default; use ~0.2 with unit-norm embeddings). */
  margin?: number;
}

export class TripletSemiHardLoss implements MetricLoss {
  readonly margin: number;
  lastForwardEmpty = false;

  constructor(o: TripletOptions = {}) {
    this.margin = o.margin ?? 1.0;
    if (!Number.isFinite(this.margin))
      throw new RangeError(`TripletSemiHardLoss: margin must be finite, got ${this.margin}`);
  }

  forward(embeddings: Tensor, labels: Tensor): Tensor {
    checkBatch('TripletSemiHardLoss', embeddings, labels);
    this.lastForwardEmpty = !hasValidTriplet(labels.toArray());
    if (this.lastForwardEmpty) return embeddings.mul(0).sum();
    const b = embeddings.size(0);
    const d = pairwiseDistance(embeddings);
    const y = labels.unsqueeze(1);
    const same = y.eq(y.T);
    const differ = same.logicalNot();
    const differF = differ.to(d.dtype);
    // [a, p, n]: n is a negative of a that lies farther from a than p does.
    const dAN = d.unsqueeze(1).expand(b, b, b);
    const beyond = differ.unsqueeze(1).logicalAnd(dAN.gt(d.unsqueeze(2)));
    const hasSemiHard = beyond.sum(2).gt(0);
    const semiHard = maskedMin(dAN, beyond.to(d.dtype), 2);
    const farthest = maskedMax(d, differF, 1).unsqueeze(1);
    const negative = where(hasSemiHard, semiHard, farthest.expand(b, b));
    const positives = same.to(d.dtype).sub(eye(b, { dtype: d.dtype, device: d.device }));
    const perPair = d.sub(negative).add(this.margin).mul(positives).clamp(0);
    return perPair.sum().div(positives.sum());
  }

  parameters(): Tensor[] {
    return [];
  }

  namedParameters(): Record<string, Tensor> {
    return {};
  }
}

/** Whether some anchor has a positive (another image of its class) and a negative (another class). */
function hasValidTriplet(labels: readonly number[]): boolean {
  const counts = new Map<number, number>();
  for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  return counts.size >= 2 && [...counts.values()].some((c) => c >= 2);
}

/** Minimum over dim of the entries where mask is 1; the plain maximum where the mask is empty. */
function maskedMin(data: Tensor, mask: Tensor, dim: number): Tensor {
  const top = data.max(dim, true).values;
  return data.sub(top).mul(mask).min(dim, true).values.add(top).squeeze(dim);
}

/** Maximum over dim of the entries where mask is 1; the plain minimum where the mask is empty. */
function maskedMax(data: Tensor, mask: Tensor, dim: number): Tensor {
  const bottom = data.min(dim, true).values;
  return data.sub(bottom).mul(mask).max(dim, true).values.add(bottom).squeeze(dim);
}

export const createTriplet: LossFactory = ({ options }) => new TripletSemiHardLoss({ margin: options.margin });
