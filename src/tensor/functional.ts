// Neural-network functions (as torch.nn.functional), over the native kernels.
import { native } from './native.js';
import { type Reduction, Tensor } from './tensor.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(native.linear(x.handle, weight.handle, bias?.handle));
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: Conv2dOptions = {}): Tensor {
  return new Tensor(
    native.conv2d(
      x.handle,
      weight.handle,
      bias?.handle,
      pair(o.stride ?? 1),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      o.groups ?? 1,
    ),
  );
}

export interface Pool2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}
export function maxPool2d(x: Tensor, kernel: Pair, o: Pool2dOptions = {}): Tensor {
  return new Tensor(
    native.maxPool2d(
      x.handle,
      pair(kernel),
      pair(o.stride ?? kernel),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      o.ceilMode ?? false,
    ),
  );
}
export function avgPool2d(x: Tensor, kernel: Pair, o: Pool2dOptions = {}): Tensor {
  return new Tensor(
    native.avgPool2d(
      x.handle,
      pair(kernel),
      pair(o.stride ?? kernel),
      pair(o.padding ?? 0),
      o.ceilMode ?? false,
      o.countIncludePad ?? true,
    ),
  );
}
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  return new Tensor(native.adaptiveAvgPool2d(x.handle, pair(outputSize)));
}

export interface InterpolateBicubicOptions {
  /** The output's height and width. */
  size: [number, number];
  alignCorners?: boolean;
  /**
   * interpolate's scale_factor (height, width) when the caller computed the size from one: PyTorch then
   * maps output to input coordinates by 1 / scale instead of by the ratio of the sizes.
   */
  scaleFactor?: [number, number];
  /** Antialiased when downsampling (interpolate's antialias=True; default false). */
  antialias?: boolean;
}

/** F.interpolate(x [N, C, H, W], mode='bicubic'), differentiable. */
export function interpolateBicubic(x: Tensor, o: InterpolateBicubicOptions): Tensor {
  if (x.rank !== 4) throw new RangeError(`interpolateBicubic(): expected a 4-d tensor, got [${x.shape.join(', ')}]`);
  for (const v of o.size) {
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`interpolateBicubic(): size must be positive integers, got [${o.size}]`);
  }
  const scale = o.scaleFactor;
  if (scale && !scale.every((v) => Number.isFinite(v) && v > 0)) {
    throw new RangeError(`interpolateBicubic(): scaleFactor must be positive numbers, got [${scale}]`);
  }
  return new Tensor(
    native.upsampleBicubic2d(x.handle, o.size, o.alignCorners ?? false, o.antialias ?? false, scale?.[0], scale?.[1]),
  );
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** Batch statistics (and running-stat updates) when true; running statistics when false. */
  training: boolean;
  momentum?: number;
  eps?: number;
}
export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  return new Tensor(
    native.batchNorm(
      x.handle,
      o.weight?.handle,
      o.bias?.handle,
      o.runningMean?.handle,
      o.runningVar?.handle,
      o.training,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
    ),
  );
}

export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  o: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {},
): Tensor {
  return new Tensor(native.layerNorm(x.handle, normalizedShape, o.weight?.handle, o.bias?.handle, o.eps ?? 1e-5));
}

export function relu(x: Tensor): Tensor {
  return new Tensor(native.relu(x.handle));
}
export function gelu(x: Tensor): Tensor {
  return new Tensor(native.gelu(x.handle));
}
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout(): p must be in [0, 1], got ${p}`);
  return new Tensor(native.dropout(x.handle, p, training));
}
/** x / max(||x||_p, eps) along dim, as torch.nn.functional.normalize. */
export function normalize(x: Tensor, o: { p?: number; dim?: number; eps?: number } = {}): Tensor {
  return new Tensor(native.normalize(x.handle, o.p ?? 2, o.dim ?? 1, o.eps ?? 1e-12));
}
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return new Tensor(native.logSoftmax(x.handle, dim));
}
export function softmax(x: Tensor, dim: number): Tensor {
  return new Tensor(native.softmax(x.handle, dim));
}
export interface CrossEntropyOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}
/** Cross entropy of logits [N, C] against int64 class indices [N]. */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  return new Tensor(
    native.crossEntropy(
      logits.handle,
      target.handle,
      o.weight?.handle,
      REDUCTION[o.reduction ?? 'mean'],
      o.ignoreIndex ?? -100,
      o.labelSmoothing ?? 0,
    ),
  );
}
export function nllLoss(logProbs: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  return new Tensor(
    native.nllLoss(
      logProbs.handle,
      target.handle,
      o.weight?.handle,
      REDUCTION[o.reduction ?? 'mean'],
      o.ignoreIndex ?? -100,
    ),
  );
}
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return new Tensor(native.mseLoss(input.handle, target.handle, REDUCTION[reduction]));
}
/** Pairwise Hamming distances between bit-packed uint8 codes: [n, B] x [m, B] -> int32 [n, m]. */
export function hammingDistance(queries: Tensor, gallery: Tensor): Tensor {
  return new Tensor(native.hammingDistance(queries.handle, gallery.handle));
}
/** a @ b with a bias: beta * input + alpha * (a @ b). */
export function addmm(input: Tensor, a: Tensor, b: Tensor, beta = 1, alpha = 1): Tensor {
  return new Tensor(native.addmm(input.handle, a.handle, b.handle, beta, alpha));
}
