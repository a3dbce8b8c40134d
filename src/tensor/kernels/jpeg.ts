// JPEG decoding with the system's libjpeg-turbo (native/src/jpeg.cpp) on the calling thread: the fast
// path of the image pipeline. It answers null for whatever it does not decode cleanly (not a JPEG,
// CMYK, a warning or an error, or no libjpeg on the machine), and the caller then decodes another way.
import { native } from '../native.js';
import { checkArray } from './check.js';

export interface DecodedJpeg {
  /** Row-major HWC bytes. */
  data: Uint8Array;
  width: number;
  height: number;
  /** 1: gray, 3: RGB. */
  channels: 1 | 3;
}

/** Whether libjpeg could be loaded (when false, jpegDecode always answers null). */
export function jpegDecodeAvailable(): boolean {
  return native.imageDecodeJpegAvailable();
}

/**
 * The pixels of a gray or colour JPEG, as Pillow's Image.open(...).convert('RGB' or 'L') reads them
 * (same library and settings: islow IDCT, fancy upsampling, no colour management), or null.
 * scaleDenom > 1 decodes at 1/scaleDenom of the size with libjpeg's DCT scaling (not what Pillow does).
 */
export function jpegDecode(bytes: Uint8Array, scaleDenom: 1 | 2 | 4 | 8 = 1): DecodedJpeg | null {
  checkArray('jpegDecode()', 'bytes', bytes, Uint8Array);
  if (![1, 2, 4, 8].includes(scaleDenom)) throw new RangeError(`jpegDecode(): scaleDenom must be 1, 2, 4 or 8`);
  const r = native.imageDecodeJpeg(bytes, scaleDenom);
  if (r === null) return null;
  return { data: r.data, width: r.width, height: r.height, channels: r.channels as 1 | 3 };
}
