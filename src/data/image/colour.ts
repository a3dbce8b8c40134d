// Colour conversions exactly as Pillow's Image.convert does them, for decoded pixels with or without
// alpha: alpha is dropped (not composited), CMYK uses Pillow's naive formula, L = ITU-R 601-2 luma.
import type { Pixels } from './pixels.js';

/** Decoded pixels before conversion: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA or CMYK. */
export interface DecodedPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  cmyk: boolean;
}

// Pillow's MULDIV255: a * b / 255 rounded, in integers.
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

// Pillow's L24 >> 16.
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

function cmykToRgb(src: DecodedPixels): Pixels {
  const n = src.width * src.height;
  const out = new Uint8Array(n * 3);
  const d = src.data;
  for (let i = 0; i < n; i++) {
    const nk = 255 - (d[i * 4 + 3] as number);
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.max(0, nk - mulDiv255(d[i * 4 + c] as number, nk));
  }
  return { data: out, width: src.width, height: src.height, channels: 3 };
}

/** Keeps the first `keep` of every `stride` bytes (drops alpha). */
function dropTrailing(src: DecodedPixels, keep: 1 | 3): Pixels {
  const n = src.width * src.height;
  const stride = src.channels;
  const out = new Uint8Array(n * keep);
  const d = src.data;
  for (let i = 0; i < n; i++) for (let c = 0; c < keep; c++) out[i * keep + c] = d[i * stride + c] as number;
  return { data: out, width: src.width, height: src.height, channels: keep };
}

function rgbToLuma(src: Pixels): Pixels {
  const n = src.width * src.height;
  const out = new Uint8Array(n);
  const d = src.data;
  for (let i = 0; i < n; i++) out[i] = luma(d[i * 3] as number, d[i * 3 + 1] as number, d[i * 3 + 2] as number);
  return { data: out, width: src.width, height: src.height, channels: 1 };
}

/**
 * Pixels ready for resizing. For 3 output channels a gray image stays 1 channel (replicated into RGB
 * when normalised, which equals Pillow's convert('RGB') then resize, channel by channel).
 */
export function toPipelinePixels(src: DecodedPixels, outChannels: 1 | 3): Pixels {
  const base = { width: src.width, height: src.height };
  let pixels: Pixels;
  if (src.cmyk) {
    if (src.channels !== 4) throw new RangeError(`CMYK image with ${src.channels} channels`);
    pixels = cmykToRgb(src);
  } else if (src.channels === 1 || src.channels === 3) {
    pixels = { ...base, data: src.data, channels: src.channels };
  } else {
    pixels = dropTrailing(src, src.channels === 2 ? 1 : 3);
  }
  return outChannels === 1 && pixels.channels === 3 ? rgbToLuma(pixels) : pixels;
}
