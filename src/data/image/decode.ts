// Decoding image files with sharp (libvips, off the JS thread) into raw 8-bit pixels as Pillow reads
// them: no EXIF rotation, embedded ICC profiles ignored, CMYK kept as CMYK (converted by colour.ts),
// first frame of multi-frame files.
import type { Sharp, SharpOptions } from 'sharp';
import { jpegDecode } from '../../tensor/kernels/jpeg.js';
import { BadImageError, firstLine } from './bad-image-error.js';
import type { DecodedPixels } from './colour.js';
import { draftScale } from './draft.js';
import { jpegFrame, type SniffedSpace, sniffColourSpace } from './sniff.js';
import type { Size } from './transform-config.js';

type SharpFactory = (input: Uint8Array, options: SharpOptions) => Sharp;
let sharpModule: Promise<SharpFactory> | null = null;

/**
 * sharp, loaded on first use: a decode worker that only meets JPEGs never pays for loading libvips
 * (~130 ms of CPU per worker thread).
 */
function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= import('sharp').then((m) => {
    // libvips caches operations for reuse; a data loader never repeats one, so the cache only holds memory.
    m.default.cache(false);
    return m.default as SharpFactory;
  });
  return sharpModule;
}

const OPTIONS = { failOn: 'error', ignoreIcc: true, sequentialRead: true } as const;

async function metadataSpace(sharp: SharpFactory, bytes: Uint8Array): Promise<SniffedSpace> {
  const meta = await sharp(bytes, OPTIONS).metadata();
  if (meta.space === 'cmyk') return 'cmyk';
  return meta.space === 'b-w' || meta.space === 'grey16' ? 'gray' : 'colour';
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

export interface DecodeOptions {
  /**
   * Decode JPEGs at 1/2, 1/4 or 1/8 of their size where the result stays at least this big (Pillow's
   * Image.draft('RGB', size)); other formats, and JPEGs libjpeg-turbo does not decode here (CMYK), are
   * decoded whole.
   */
  draftTo?: Size;
}

/** Decodes an encoded image (JPEG, PNG, WebP, and whatever else sharp reads); `path` names it in errors. */
export async function decodeImage(bytes: Uint8Array, path: string, o: DecodeOptions = {}): Promise<DecodedPixels> {
  // Gray and colour JPEGs: libjpeg-turbo on this thread, as Pillow decodes them (half sharp's CPU time
  // on small photos); anything it does not decode cleanly goes to sharp below, errors included.
  let fast: ReturnType<typeof jpegDecode> = null;
  try {
    if (isJpeg(bytes)) {
      const frame = o.draftTo ? jpegFrame(bytes) : null;
      fast = jpegDecode(bytes, frame && o.draftTo ? draftScale(frame, o.draftTo) : 1);
    }
  } catch {
    // e.g. out of memory for the pixels: sharp below decides, as it always did
  }
  if (fast) return { ...fast, cmyk: false };
  try {
    const sharp = await loadSharp();
    const space = sniffColourSpace(bytes) ?? (await metadataSpace(sharp, bytes));
    const cmyk = space === 'cmyk';
    let image = sharp(bytes, OPTIONS);
    if (cmyk) image = image.pipelineColourspace('cmyk').toColourspace('cmyk');
    else image = image.toColourspace(space === 'gray' ? 'b-w' : 'srgb');
    const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const channels = info.channels;
    if (channels < 1 || channels > 4) throw new Error(`unsupported channel count ${channels}`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels,
      cmyk,
    };
  } catch (e) {
    throw new BadImageError(path, `cannot decode image (${firstLine(e)})`);
  }
}
