// The image pipeline: decode (sharp), convert like Pillow, resize like Pillow's bilinear, crop, flip,
// normalise into float32 CHW.
export { type AugmentDraws, type AugmentKey, augmentDraws, drawInt } from './augment.js';
export { BadImageError } from './bad-image-error.js';
export { type DecodedPixels, toPipelinePixels } from './colour.js';
export { decodeImage } from './decode.js';
export { type ChwNormalisation, resizeBilinear, writeChw } from './kernels.js';
export { fullRect, type Pixels, type Rect } from './pixels.js';
export { loadPixels, rawToDecoded, readImageFile } from './source.js';
export {
  applyTransform,
  normalisationOf,
  planTransform,
  resizeWhole,
  roundHalfEven,
  type TransformPlan,
} from './transform.js';
export {
  IMAGENET_TRANSFORM,
  type Size,
  type TransformConfig,
  type TransformMode,
  transformForInput,
  validateTransform,
} from './transform-config.js';
