// The query worker's per-image work with bounded memory: every image goes decode -> convert -> resize and
// crop -> CHW floats inside a budget of decoded pixels, so the full-size pixels of an image are dropped
// before more are decoded than the budget allows (a batch of sixteen 49-Mpx JPEGs held 2.4 GB when every
// image was decoded before any was resized). Small images still decode side by side; an image larger than
// the budget decodes alone. The pixels are exactly the ones `index build` computes: the same decode (JPEGs
// drafted only when the index's embedder was built with --jpeg-draft), conversion and transform.
import { BadImageError } from '../data/image/bad-image-error.js';
import { toPipelinePixels } from '../data/image/colour.js';
import { type DecodeOptions, decodeImage } from '../data/image/decode.js';
import { draftScale } from '../data/image/draft.js';
import { readImageHeader } from '../data/image/header.js';
import { jpegFrame } from '../data/image/sniff.js';
import { draftTarget, type Size, type TransformConfig } from '../data/image/transform-config.js';
import { type ImageResult, outChannelsOf, processPixels } from '../data/loader/process-image.js';
import { jpegDecodeAvailable } from '../tensor/kernels/jpeg.js';
import type { WeightedLimiter } from '../util/weighted-limiter.js';

/** Decoded pixels in flight in a query worker (about 48 MB as RGB); a larger image decodes alone. */
export const DECODE_BUDGET_PIXELS = 16_000_000;

/**
 * Largest image embedded at its own size, for an index built without resize and crop (--resize 0 --crop 0):
 * the model's activations grow with the pixels (ResNet-50's first block holds 64 floats a pixel), so such a
 * query is refused above this many pixels rather than run a forward of gigabytes.
 */
export const MAX_UNRESIZED_PIXELS = 4_194_304;

export interface QueryImageHooks {
  /** An image's decode starts (`pixels`: what it will hold): from here its pixels may be alive... */
  onDecoding?(index: number, pixels: number): void;
  /** ...until they are transformed into the model's input, or the decode failed. */
  onDone?(index: number): void;
}

export interface QueryImageOptions {
  config: TransformConfig;
  /** Weighs each image by the pixels its decode will hold; shared by every batch of a worker. */
  limiter: WeightedLimiter;
  hooks?: QueryImageHooks;
}

/**
 * The pixels a decode of these bytes will produce, from the header: a drafted JPEG's reduced size where
 * libjpeg-turbo decodes it (gray or colour, libjpeg found), else the whole size; unknown (AVIF, an
 * unreadable header):
 * the whole budget, so that it decodes alone.
 */
export function decodedPixels(bytes: Uint8Array, draftTo: Size | undefined, budget: number): number {
  const header = readImageHeader(bytes);
  if (header === null) return budget;
  const frame = header.kind === 'jpeg' && draftTo && jpegDecodeAvailable() ? jpegFrame(bytes) : null;
  if (frame && draftTo && (frame.components === 1 || frame.components === 3)) {
    const s = draftScale(frame, draftTo);
    return Math.ceil(frame.width / s) * Math.ceil(frame.height / s);
  }
  return header.width * header.height;
}

async function prepareOne(bytes: Uint8Array, index: number, o: QueryImageOptions): Promise<ImageResult> {
  const name = `image ${index + 1}`;
  if (bytes.length === 0) throw new BadImageError(name, 'empty upload');
  const { config, limiter, hooks } = o;
  const draftTo = draftTarget(config);
  const decode: DecodeOptions = draftTo ? { draftTo } : {};
  const weight = decodedPixels(bytes, draftTo, limiter.capacity);
  if (config.resize === null && config.crop === null && weight > MAX_UNRESIZED_PIXELS) {
    const header = readImageHeader(bytes);
    const size = header ? `${header.width} x ${header.height} pixels` : 'an image of unknown size';
    throw new BadImageError(
      name,
      `${size}: this index embeds images at their own size (built with --resize 0 --crop 0), at most ${MAX_UNRESIZED_PIXELS.toLocaleString('en-US')} pixels`,
    );
  }
  return limiter.run(weight, async () => {
    hooks?.onDecoding?.(index, weight);
    try {
      const pixels = toPipelinePixels(await decodeImage(bytes, name, decode), outChannelsOf(config));
      return processPixels(name, pixels, { config, mode: 'eval', draws: [0.5, 0.5, 1], keepResized: false });
    } finally {
      hooks?.onDone?.(index);
    }
  });
}

/** Each image's model input (CHW floats and shape), or the error that made it unusable, in order. */
export function prepareQueryImages(
  images: readonly Uint8Array[],
  o: QueryImageOptions,
): Promise<(ImageResult | Error)[]> {
  return Promise.all(
    images.map((bytes, i) =>
      prepareOne(bytes, i, o).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
    ),
  );
}
