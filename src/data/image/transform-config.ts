// What the image pipeline does to every sample: resize, crop, flip, normalise. Train mode uses a random
// crop and a random flip; eval mode a centre crop and no flip (torchvision's RandomCrop/CenterCrop).
import { evalResize, type InputSpec, type ResizeFilter, type ResizeMode } from '../../nn/input-spec.js';

export type { ResizeFilter, ResizeMode };

export interface Size {
  width: number;
  height: number;
}

export interface TransformConfig {
  /**
   * Resize every image to exactly this size first (aspect ratio not kept); with resizeMode 'shorter' (a
   * square size N x N then), its shorter side to N with the aspect kept. null: keep the image's size.
   */
  resize: Size | null;
  /** 'square' (default): resize is the output size; 'shorter': torchvision's Resize(N) (shorter side to N). */
  resizeMode?: ResizeMode;
  /** Pillow's filter for the resize: 'bilinear' (default) or 'bicubic'. */
  filter?: ResizeFilter;
  /** Then crop to this size (random in train mode, centred in eval mode); null: no crop. */
  crop: Size | null;
  /** Train mode: probability of a horizontal flip. */
  flipProbability: number;
  /** Output channels and their order; 'gray' gives 1 channel (Pillow's L conversion of colour images). */
  colorOrder: 'RGB' | 'BGR' | 'gray';
  /** 1: pixels scaled to [0, 1]; 255: raw 0-255 values (Caffe models). */
  range: 1 | 255;
  /** Per output channel in colorOrder, on the scaled pixels: x = (pixel - mean) / std. */
  mean: readonly number[];
  std: readonly number[];
  /**
   * Decode JPEGs at 1/2, 1/4 or 1/8 of their size where that still covers `resize` (Pillow's
   * Image.draft('RGB', resize) before the resize): less decoding on large photos (the entropy decoding
   * of the whole file remains; 1.5x on 2000x1500 photos here), with Pillow's draft pixels rather than a
   * full decode's. Needs a resize; default false.
   */
  jpegDraft?: boolean;
}

/** The size JPEGs may be draft-decoded to (undefined: decode whole). */
export function draftTarget(c: TransformConfig): Size | undefined {
  return c.jpegDraft === true && c.resize !== null ? c.resize : undefined;
}

export type TransformMode = 'train' | 'eval';

function square(n: number): Size {
  return { width: n, height: n };
}

/** The paper's transform for torchvision ImageNet backbones: 256x256, 224 crop, flip 0.5, ImageNet stats. */
export const IMAGENET_TRANSFORM: TransformConfig = Object.freeze({
  resize: square(256),
  crop: square(224),
  flipProbability: 0.5,
  colorOrder: 'RGB',
  range: 1,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
});

/** The resize mode and filter of a spec, as transform settings (none for the defaults: square, bilinear). */
function resampling(spec: InputSpec): Pick<TransformConfig, 'resizeMode' | 'filter'> {
  return {
    ...(spec.resizeMode && spec.resizeMode !== 'square' ? { resizeMode: spec.resizeMode } : {}),
    ...(spec.resizeFilter && spec.resizeFilter !== 'bilinear' ? { filter: spec.resizeFilter } : {}),
  };
}

/** Inputs up to this size (MNIST-like) are used as they are, without resize, crop or flip. */
export const SMALL_INPUT_MAX = 32;

/**
 * The transform that feeds a backbone with the given input spec. Small inputs (MNIST-like, size <= 32)
 * are used as they are: no resize, crop or flip (digits are not mirror-symmetric). Larger ones are
 * resized as the spec says (the paper's: to size*8/7 square, 256 for 224; a ViT's: its publisher's shorter
 * side, filter) and cropped to size, flipped with p = 0.5 in training.
 */
export function transformForInput(spec: InputSpec): TransformConfig {
  const small = spec.size <= SMALL_INPUT_MAX;
  return {
    resize: small ? null : square(evalResize(spec)),
    ...(small ? {} : resampling(spec)),
    crop: small ? null : square(spec.size),
    flipProbability: small ? 0 : 0.5,
    colorOrder: spec.colorOrder,
    range: spec.range,
    mean: [...spec.mean],
    std: [...spec.std],
  };
}

/**
 * The transform the image pipeline applies for a model with this input spec and a run's resize and crop
 * (0 = none): larger inputs get that resize and crop; small ones (size <= 32) are resized to the input
 * size whatever the run recorded (a no-op for images already that size), so that an item embedded by
 * `index build` and the same image as a query go through the same transform. Flip as transformForInput
 * (used in train mode only).
 */
export function pipelineTransform(spec: InputSpec, resize: number, crop: number, jpegDraft = false): TransformConfig {
  const base = { ...transformForInput(spec), ...(jpegDraft ? { jpegDraft } : {}) };
  if (base.resize === null) return { ...base, resize: square(spec.size) };
  return {
    ...base,
    resize: resize > 0 ? square(resize) : null,
    crop: crop > 0 ? square(crop) : null,
  };
}

function checkSize(what: string, s: Size | null): void {
  if (s === null) return;
  for (const v of [s.width, s.height]) {
    if (!Number.isInteger(v) || v < 1 || v > 65536) {
      throw new RangeError(`transform: ${what} must be whole pixels between 1 and 65536, got ${s.width}x${s.height}`);
    }
  }
}

/** Throws a RangeError naming the first invalid setting. */
export function validateTransform(c: TransformConfig): void {
  checkSize('resize', c.resize);
  checkSize('crop', c.crop);
  if (c.resizeMode !== undefined && c.resizeMode !== 'square' && c.resizeMode !== 'shorter') {
    throw new RangeError(`transform: resizeMode must be square or shorter, got ${c.resizeMode}`);
  }
  if (c.resizeMode === 'shorter' && c.resize && c.resize.width !== c.resize.height) {
    throw new RangeError(
      `transform: a shorter-side resize takes one size (N x N), got ${c.resize.width}x${c.resize.height}`,
    );
  }
  if (c.filter !== undefined && c.filter !== 'bilinear' && c.filter !== 'bicubic') {
    throw new RangeError(`transform: filter must be bilinear or bicubic, got ${c.filter}`);
  }
  if (c.resize && c.crop && (c.crop.width > c.resize.width || c.crop.height > c.resize.height)) {
    throw new RangeError(
      `transform: crop ${c.crop.width}x${c.crop.height} is larger than resize ${c.resize.width}x${c.resize.height}`,
    );
  }
  if (!(c.flipProbability >= 0 && c.flipProbability <= 1)) {
    throw new RangeError(`transform: flipProbability must be in [0, 1], got ${c.flipProbability}`);
  }
  if (!['RGB', 'BGR', 'gray'].includes(c.colorOrder)) {
    throw new RangeError(`transform: colorOrder must be RGB, BGR or gray, got ${c.colorOrder}`);
  }
  if (c.range !== 1 && c.range !== 255) throw new RangeError(`transform: range must be 1 or 255, got ${c.range}`);
  const channels = c.colorOrder === 'gray' ? 1 : 3;
  if (c.mean.length !== channels || c.std.length !== channels) {
    throw new RangeError(`transform: mean and std need ${channels} values for ${c.colorOrder}`);
  }
  if (c.jpegDraft !== undefined && typeof c.jpegDraft !== 'boolean') {
    throw new RangeError(`transform: jpegDraft must be true or false, got ${c.jpegDraft}`);
  }
  if (!c.mean.every(Number.isFinite)) throw new RangeError('transform: mean values must be finite');
  if (!c.std.every((s) => Number.isFinite(s) && s !== 0)) {
    throw new RangeError('transform: std values must be finite and non-zero');
  }
}
