// The image pipeline's view of the native image kernels (src/tensor/kernels/image.ts, which checks the
// arguments). They work on plain typed arrays, so decode workers can call them too.
import { imageResizeBicubic, imageResizeBilinear, imageToChw, type ResizeFilter } from '../../tensor/kernels/image.js';
import type { Pixels, Rect } from './pixels.js';

/**
 * The window `rect` (default: all) of `src` resized to outWidth x outHeight, bit-identical to Pillow's
 * Image.resize((outWidth, outHeight), BILINEAR) on 8-bit L or RGB images (aspect ratio not kept).
 */
export function resizeBilinear(src: Pixels, outWidth: number, outHeight: number, rect?: Rect): Pixels {
  return resizePixels(src, outWidth, outHeight, 'bilinear', rect);
}

/** The same with Pillow's BILINEAR or BICUBIC filter (Image.resize(size, filter), bit for bit). */
export function resizePixels(
  src: Pixels,
  outWidth: number,
  outHeight: number,
  filter: ResizeFilter,
  rect?: Rect,
): Pixels {
  const r = rect ?? { x: 0, y: 0, width: outWidth, height: outHeight };
  const resize = filter === 'bicubic' ? imageResizeBicubic : imageResizeBilinear;
  const data = resize({ src, outWidth, outHeight, window: r });
  return { data, width: r.width, height: r.height, channels: src.channels };
}

/** How uint8 pixels become network input: x = (pixel * range / 255 - mean[c]) / std[c]. */
export interface ChwNormalisation {
  /** 'gray' writes 1 channel; 'RGB'/'BGR' write 3 (a gray source is replicated). */
  colorOrder: 'RGB' | 'BGR' | 'gray';
  /** 1: pixels scaled to [0, 1] (torchvision ToTensor); 255: raw byte values (Caffe). */
  range: 1 | 255;
  /** Per output channel, in colorOrder. */
  mean: Float64Array;
  std: Float64Array;
}

export function outputChannels(n: Pick<ChwNormalisation, 'colorOrder'>): 1 | 3 {
  return n.colorOrder === 'gray' ? 1 : 3;
}

/**
 * Writes the rectangle `rect` of `src`, mirrored left-right when `flip`, normalised, as float32 CHW into
 * out starting at element `offset`. Computed in float32 like torchvision's ToTensor + Normalize.
 */
export function writeChw(
  src: Pixels,
  rect: Rect,
  flip: boolean,
  norm: ChwNormalisation,
  out: Float32Array,
  offset: number,
): void {
  imageToChw({
    src,
    rect,
    flip,
    outChannels: outputChannels(norm),
    divisor: norm.range === 1 ? 255 : 1,
    mean: norm.mean,
    std: norm.std,
    bgr: norm.colorOrder === 'BGR',
    out,
    offset,
  });
}
