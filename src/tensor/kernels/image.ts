// The image kernels (native/src/image.cpp) on plain typed arrays, so decode workers can call them too.
// Arguments are named and checked here: the C++ trusts its sizes and offsets.
import { native } from '../native.js';
import { checkArray, checkBoolean, checkInteger } from './check.js';

/** Row-major HWC uint8 pixels with 1 (L) or 3 (RGB) channels. */
export interface ImageBytes {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

/** A rectangle in pixel coordinates (x: column, y: row). */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pillow's bilinear filter and the tensors' index math are sized for this. */
export const MAX_IMAGE_SIDE = 1 << 16;

function checkImage(fn: string, src: ImageBytes): void {
  if (typeof src !== 'object' || src === null) throw new TypeError(`${fn}: src must be an image object`);
  checkArray(fn, 'src.data', src.data, Uint8Array);
  const width = checkInteger(fn, 'src.width', src.width, 1, MAX_IMAGE_SIDE);
  const height = checkInteger(fn, 'src.height', src.height, 1, MAX_IMAGE_SIDE);
  if (src.channels !== 1 && src.channels !== 3)
    throw new RangeError(`${fn}: src.channels must be 1 or 3, got ${src.channels}`);
  const need = width * height * src.channels;
  if (src.data.length < need) {
    throw new RangeError(
      `${fn}: src.data holds ${src.data.length} bytes, a ${width}x${height}x${src.channels} image needs ${need}`,
    );
  }
}

/** Throws unless `rect` lies inside a width x height image (and is not empty). */
function checkRect(fn: string, what: string, rect: PixelRect, width: number, height: number): void {
  if (typeof rect !== 'object' || rect === null) throw new TypeError(`${fn}: ${what} must be a rectangle`);
  const x = checkInteger(fn, `${what}.x`, rect.x, 0, width - 1);
  const y = checkInteger(fn, `${what}.y`, rect.y, 0, height - 1);
  checkInteger(fn, `${what}.width`, rect.width, 1, width - x);
  checkInteger(fn, `${what}.height`, rect.height, 1, height - y);
}

export interface ResizeBilinearOptions {
  src: ImageBytes;
  outWidth: number;
  outHeight: number;
  /** The part of the outWidth x outHeight result to compute (default: all of it). */
  window?: PixelRect;
}

/** Pillow's resampling filters that the pipeline offers. */
export type ResizeFilter = 'bilinear' | 'bicubic';

/**
 * The window (default: all) of `src` resized to outWidth x outHeight, as HWC bytes of the window's
 * size: bit-identical to Pillow's Image.resize((outWidth, outHeight), BILINEAR) on 8-bit L or RGB.
 */
export function imageResizeBilinear(o: ResizeBilinearOptions): Uint8Array {
  return resizeWith('bilinear', o);
}

/** The same with Pillow's BICUBIC filter (Keys' cubic, a = -0.5), bit-identical to Image.resize. */
export function imageResizeBicubic(o: ResizeBilinearOptions): Uint8Array {
  return resizeWith('bicubic', o);
}

function resizeWith(filter: ResizeFilter, o: ResizeBilinearOptions): Uint8Array {
  const fn = filter === 'bicubic' ? 'imageResizeBicubic()' : 'imageResizeBilinear()';
  checkImage(fn, o.src);
  const outWidth = checkInteger(fn, 'outWidth', o.outWidth, 1, MAX_IMAGE_SIDE);
  const outHeight = checkInteger(fn, 'outHeight', o.outHeight, 1, MAX_IMAGE_SIDE);
  const w = o.window ?? { x: 0, y: 0, width: outWidth, height: outHeight };
  checkRect(fn, 'window', w, outWidth, outHeight);
  const { src } = o;
  const kernel = filter === 'bicubic' ? native.imageResizeBicubic : native.imageResizeBilinear;
  return kernel(src.data, src.width, src.height, src.channels, outWidth, outHeight, w.x, w.y, w.width, w.height);
}

export interface ImageToChwOptions {
  src: ImageBytes;
  /** The rectangle of src to write. */
  rect: PixelRect;
  /** Mirror left-right. */
  flip: boolean;
  /** 1 writes the gray plane; 3 writes three planes (a gray source is replicated). */
  outChannels: 1 | 3;
  /** Pixels are divided by this first (255 for [0, 1], 1 for raw byte values). */
  divisor: number;
  /** Per output channel (Float64Array of outChannels values); std must not be 0. */
  mean: Float64Array;
  std: Float64Array;
  /** Write the source's channels in reverse order (BGR). */
  bgr: boolean;
  out: Float32Array;
  /** Element of `out` where the outChannels x rect.height x rect.width block starts. */
  offset: number;
}

/**
 * Writes out[offset + (c * h + r) * w + col] = (src[y + r][x + col'][c'] / divisor - mean[c]) / std[c]
 * in float32 (the order of torchvision's ToTensor + Normalize), col' mirrored when flip, c' = 2 - c
 * when bgr.
 */
export function imageToChw(o: ImageToChwOptions): void {
  const fn = 'imageToChw()';
  checkImage(fn, o.src);
  const { src, rect } = o;
  checkRect(fn, 'rect', rect, src.width, src.height);
  const flip = checkBoolean(fn, 'flip', o.flip);
  const bgr = checkBoolean(fn, 'bgr', o.bgr);
  if (o.outChannels !== 1 && o.outChannels !== 3) {
    throw new RangeError(`${fn}: outChannels must be 1 or 3, got ${o.outChannels}`);
  }
  if (src.channels === 3 && o.outChannels === 1)
    throw new RangeError(`${fn}: cannot write 1 channel from an RGB source`);
  if (typeof o.divisor !== 'number' || !(o.divisor > 0) || !Number.isFinite(o.divisor)) {
    throw new RangeError(`${fn}: divisor must be a positive number, got ${o.divisor}`);
  }
  for (const [what, values] of [
    ['mean', o.mean],
    ['std', o.std],
  ] as const) {
    checkArray(fn, what, values, Float64Array);
    if (values.length !== o.outChannels) {
      throw new RangeError(
        `${fn}: ${what} needs one value per output channel (${o.outChannels}), got ${values.length}`,
      );
    }
    for (const v of values) {
      if (!Number.isFinite(v) || (what === 'std' && v === 0)) {
        throw new RangeError(`${fn}: ${what} values must be finite${what === 'std' ? ' and non-zero' : ''}, got ${v}`);
      }
    }
  }
  const out = checkArray(fn, 'out', o.out, Float32Array);
  const size = o.outChannels * rect.width * rect.height;
  const offset = checkInteger(fn, 'offset', o.offset, 0, Math.max(0, out.length - size));
  if (offset + size > out.length) {
    throw new RangeError(`${fn}: out holds ${out.length} floats, the image needs ${size} from offset ${offset}`);
  }
  native.imageToChw(
    src.data,
    src.width,
    src.height,
    src.channels,
    rect.x,
    rect.y,
    rect.width,
    rect.height,
    flip,
    o.outChannels,
    o.divisor,
    o.mean,
    o.std,
    bgr,
    out,
    offset,
  );
}
