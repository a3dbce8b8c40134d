// Reduced-size JPEG decoding as Pillow's Image.draft(mode, size) does it: libjpeg's DCT scaling by 1/2,
// 1/4 or 1/8, the largest that keeps the image at least `size` in both dimensions. The inverse DCT, colour
// conversion and resize shrink (the entropy decoding of the file does not); the pixels are Pillow's after
// draft(), not those of a full decode.
import type { Size } from './transform-config.js';

/** Pillow's JpegImageFile.draft scale: the largest of 8, 4, 2, 1 that is at most min(W // w, H // h). */
export function draftScale(source: Size, target: Size): 1 | 2 | 4 | 8 {
  const fits = Math.min(Math.floor(source.width / target.width), Math.floor(source.height / target.height));
  for (const s of [8, 4, 2] as const) if (fits >= s) return s;
  return 1;
}
