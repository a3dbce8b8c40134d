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
  /**
   * The publisher's eval resize before the centre crop of `size` (default: size * 8 / 7, 256 for 224, the
   * paper's), in resizeMode with resizeFilter.
   */
  resize?: number;
  /**
   * 'square' (default): every image to resize x resize, aspect ratio not kept (the paper's pipeline);
   * 'shorter': the shorter side to resize, aspect kept (torchvision's Resize(int), as ViTs are evaluated).
   */
  resizeMode?: ResizeMode;
  /** Pillow's filter for the resize: 'bilinear' (default) or 'bicubic'. */
  resizeFilter?: ResizeFilter;
}

export type ResizeMode = 'square' | 'shorter';
export type ResizeFilter = 'bilinear' | 'bicubic';

/** torchvision's ImageNet models: RGB in [0, 1] with ImageNet statistics. */
export const IMAGENET_INPUT: InputSpec = Object.freeze({
  colorOrder: 'RGB',
  channels: 3,
  range: 1,
  mean: Object.freeze([0.485, 0.456, 0.406]),
  std: Object.freeze([0.229, 0.224, 0.225]),
  size: 224,
});

/** torchvision's ViT weights (ImageClassification): shorter side to 256, bilinear, centre 224, ImageNet statistics. */
export const TORCHVISION_VIT_INPUT: InputSpec = Object.freeze({
  ...IMAGENET_INPUT,
  resize: 256,
  resizeMode: 'shorter',
  resizeFilter: 'bilinear',
});

/** torchvision's ViT-L/16 (IMAGENET1K_V1): the same with the shorter side to 242. */
export const TORCHVISION_VIT_L_INPUT: InputSpec = Object.freeze({ ...TORCHVISION_VIT_INPUT, resize: 242 });

/** DINO's and DINOv2's evaluation: shorter side to 256, bicubic, centre 224, ImageNet statistics. */
export const DINO_INPUT: InputSpec = Object.freeze({
  ...IMAGENET_INPUT,
  resize: 256,
  resizeMode: 'shorter',
  resizeFilter: 'bicubic',
});

/** OpenAI CLIP's preprocess: shorter side to 224, bicubic, centre 224, CLIP's own statistics. */
export const CLIP_INPUT: InputSpec = Object.freeze({
  colorOrder: 'RGB',
  channels: 3,
  range: 1,
  mean: Object.freeze([0.48145466, 0.4578275, 0.40821073]),
  std: Object.freeze([0.26862954, 0.26130258, 0.27577711]),
  size: 224,
  resize: 224,
  resizeMode: 'shorter',
  resizeFilter: 'bicubic',
});

/** The eval resize of a spec: its publisher's, or size * 8 / 7 (the paper's 256 for 224). */
export function evalResize(spec: InputSpec): number {
  return spec.resize ?? Math.round((spec.size * 8) / 7);
}

/** A spec's resize mode and filter with the defaults filled in (square, bilinear); null: the defaults. */
export function resamplingOf(spec: InputSpec | null): { mode: ResizeMode; filter: ResizeFilter } {
  return { mode: spec?.resizeMode ?? 'square', filter: spec?.resizeFilter ?? 'bilinear' };
}

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
