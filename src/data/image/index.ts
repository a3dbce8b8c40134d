// The image pipeline: decode (sharp), convert like Pillow, resize like Pillow's bilinear or bicubic, crop, flip,
// normalise into float32 CHW.
export { type AugmentDraws, type AugmentKey, augmentDraws, drawInt } from './augment.js';
export { BadImageError } from './bad-image-error.js';
export { type DecodedPixels, toPipelinePixels } from './colour.js';
export { decodeImage } from './decode.js';
export { type ChwNormalisation, resizeBilinear, resizePixels, writeChw } from './kernels.js';
export { fullRect, type Pixels, type Rect } from './pixels.js';
export { loadPixels, rawToDecoded, readImageFile } from './source.js';
export {
  applyTransform,
  normalisationOf,
  planTransform,
  resizedSize,
  resizeWhole,
  roundHalfEven,
  shorterSideSize,
  type TransformPlan,
} from './transform.js';
export {
  IMAGENET_TRANSFORM,
  type ResizeFilter,
  type ResizeMode,
  type Size,
  type TransformConfig,
  type TransformMode,
  transformForInput,
  validateTransform,
} from './transform-config.js';
