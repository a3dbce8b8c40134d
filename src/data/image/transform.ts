// One image through the transform: resize (Pillow bilinear or bicubic; to a size, or the shorter side to a
// length), crop, flip, normalise, into float32 CHW.
import { type AugmentDraws, drawInt } from './augment.js';
import { type ChwNormalisation, resizePixels, writeChw } from './kernels.js';
import { fullRect, type Pixels, type Rect } from './pixels.js';
import type { ResizeFilter, Size, TransformConfig, TransformMode } from './transform-config.js';

/** Where the crop lies in the resized image and whether it is mirrored. */
export interface TransformPlan {
  resize: Size;
  window: Rect;
  flip: boolean;
  /** The resize's filter; absent: bilinear. */
  filter?: ResizeFilter;
}

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop uses it). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * torchvision's Resize(n) size for an image (its _compute_resized_output_size): the shorter side to n,
 * the longer to int(n * long / short).
 */
export function shorterSideSize(source: Size, n: number): Size {
  const { width: w, height: h } = source;
  const [short, long] = w <= h ? [w, h] : [h, w];
  const newLong = Math.trunc((n * long) / short);
  return w <= h ? { width: n, height: newLong } : { width: newLong, height: n };
}

/** The size the transform resizes `source` to (the source's own size without a resize). */
export function resizedSize(source: Size, config: TransformConfig): Size {
  const r = config.resize;
  if (r === null) return source;
  return config.resizeMode === 'shorter' ? shorterSideSize(source, r.width) : r;
}

/** Throws a RangeError when the image is smaller than the crop (only possible without a resize). */
export function planTransform(
  source: Size,
  config: TransformConfig,
  mode: TransformMode,
  draws: AugmentDraws,
): TransformPlan {
  const resize = resizedSize(source, config);
  const crop = config.crop ?? resize;
  if (crop.width > resize.width || crop.height > resize.height) {
    throw new RangeError(
      `image is ${resize.width}x${resize.height}, smaller than the ${crop.width}x${crop.height} crop`,
    );
  }
  const spareY = resize.height - crop.height;
  const spareX = resize.width - crop.width;
  const train = mode === 'train';
  const y = train ? drawInt(draws[0], spareY + 1) : roundHalfEven(spareY / 2);
  const x = train ? drawInt(draws[1], spareX + 1) : roundHalfEven(spareX / 2);
  const flip = train && draws[2] < config.flipProbability;
  const window = { x, y, width: crop.width, height: crop.height };
  return { resize, window, flip, ...(config.filter === 'bicubic' ? { filter: 'bicubic' as const } : {}) };
}

export function normalisationOf(config: TransformConfig): ChwNormalisation {
  return {
    colorOrder: config.colorOrder,
    range: config.range,
    mean: Float64Array.from(config.mean),
    std: Float64Array.from(config.std),
  };
}

/** The resized image, whole: what a cache keeps so that later epochs skip decoding and resizing. */
export function resizeWhole(src: Pixels, config: TransformConfig): Pixels {
  const r = resizedSize(src, config);
  if (r.width === src.width && r.height === src.height) return src;
  return resizePixels(src, r.width, r.height, config.filter ?? 'bilinear');
}

/** Applies plan to src and writes channels x crop height x crop width floats into out at offset. */
export function applyTransform(
  src: Pixels,
  plan: TransformPlan,
  norm: ChwNormalisation,
  out: Float32Array,
  offset: number,
): void {
  const { resize, window, flip, filter } = plan;
  if (resize.width === src.width && resize.height === src.height) {
    writeChw(src, window, flip, norm, out, offset);
    return;
  }
  // Only the crop window of the resized image is computed.
  const part = resizePixels(src, resize.width, resize.height, filter ?? 'bilinear', window);
  writeChw(part, fullRect(part.width, part.height), flip, norm, out, offset);
}
