// Interleaved uint8 pixel planes, the currency between decoding, resizing and cropping.

/** Row-major HWC uint8 pixels with 1 (L) or 3 (RGB) channels. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

/** A rectangle in pixel coordinates (x: column, y: row). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function fullRect(width: number, height: number): Rect {
  return { x: 0, y: 0, width, height };
}
