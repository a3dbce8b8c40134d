// Decoding image files with sharp (libvips, off the JS thread) into raw 8-bit pixels as Pillow reads
// them: no EXIF rotation, embedded ICC profiles ignored, CMYK kept as CMYK (converted by colour.ts),
// first frame of multi-frame files.
import sharp from 'sharp';
import { BadImageError, firstLine } from './bad-image-error.js';
import type { DecodedPixels } from './colour.js';

// libvips caches operations for reuse; a data loader never repeats one, so the cache only holds memory.
sharp.cache(false);

/** Decodes an encoded image (JPEG, PNG, WebP, and whatever else sharp reads); `path` names it in errors. */
export async function decodeImage(bytes: Uint8Array, path: string): Promise<DecodedPixels> {
  const options = { failOn: 'error', ignoreIcc: true, sequentialRead: true } as const;
  try {
    const meta = await sharp(bytes, options).metadata();
    const cmyk = meta.space === 'cmyk';
    let image = sharp(bytes, options);
    if (cmyk) image = image.pipelineColourspace('cmyk').toColourspace('cmyk');
    else if (meta.space === 'b-w' || meta.space === 'grey16') image = image.toColourspace('b-w');
    else image = image.toColourspace('srgb');
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
