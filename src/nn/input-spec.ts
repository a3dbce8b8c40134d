// How a backbone expects its input pixels: data the image pipeline reads to prepare tensors.

export interface InputSpec {
  /** Channel count and order of the input tensor. */
  colorOrder: 'RGB' | 'BGR' | 'gray';
  channels: 1 | 3;
  /** Pixels are first scaled to [0, range]: 1 for [0, 1] (torchvision), 255 for raw bytes (Caffe). */
  range: 1 | 255;
  /** Per-channel mean and std in colorOrder, on the scaled pixels: x = (pixel - mean) / std. */
  mean: readonly number[];
  std: readonly number[];
  /** The square input size the backbone was designed for (the crop size). */
  size: number;
}

/** torchvision's ImageNet models: RGB in [0, 1] with ImageNet statistics. */
export const IMAGENET_INPUT: InputSpec = Object.freeze({
  colorOrder: 'RGB',
  channels: 3,
  range: 1,
  mean: Object.freeze([0.485, 0.456, 0.406]),
  std: Object.freeze([0.229, 0.224, 0.225]),
  size: 224,
});

/** The Caffe-converted BN-Inception: BGR in [0, 255] minus the Caffe mean, no scaling. */
export const CAFFE_BGR_INPUT: InputSpec = Object.freeze({
  colorOrder: 'BGR',
  channels: 3,
  range: 255,
  mean: Object.freeze([104, 117, 128]),
  std: Object.freeze([1, 1, 1]),
  size: 224,
});

/** 28x28 grayscale (Fashion-MNIST, MNIST) in [0, 1], centred around 0.5. */
export const GRAY28_INPUT: InputSpec = Object.freeze({
  colorOrder: 'gray',
  channels: 1,
  range: 1,
  mean: Object.freeze([0.5]),
  std: Object.freeze([0.5]),
  size: 28,
});

/** (pixels scaled to [0, range] - mean) / std, per channel: the affine map as scale and shift per channel. */
export function normalisationAffine(spec: InputSpec): { scale: number[]; shift: number[] } {
  const scale = spec.std.map((s) => spec.range / 255 / s);
  const shift = spec.mean.map((m, i) => -m / (spec.std[i] as number));
  return { scale, shift };
}
