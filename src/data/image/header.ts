// An encoded image's kind and size read from its first bytes, without decoding anything: the server refuses
// an image above its pixel limit, and the query worker budgets its decodes, before any pixel is decoded.
// Reads at most the header's fixed fields (JPEG: the markers before the frame header); a few microseconds,
// where sharp's metadata() costs a trip to libuv's thread pool and reads a whole GIF to count its frames.
// AVIF (ISO boxes), and anything whose header does not read cleanly, answer null: ask sharp's metadata().
import { type ImageKind, sniffImage } from './image-kind.js';
import { jpegFrame } from './sniff.js';

export interface ImageHeader {
  kind: ImageKind;
  /** The size of the image (the first frame, the first page), as its decoder will produce it. */
  width: number;
  height: number;
}

const u16be = (b: Uint8Array, at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);
const u16le = (b: Uint8Array, at: number) => (b[at] as number) | ((b[at + 1] as number) << 8);
const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] as number) << 16);
const u32be = (b: Uint8Array, at: number) => u16be(b, at) * 65536 + u16be(b, at + 2);
const u32le = (b: Uint8Array, at: number) => u16le(b, at) + u16le(b, at + 2) * 65536;
const tag = (b: Uint8Array, at: number) => String.fromCharCode(...b.subarray(at, at + 4));

type Size = { width: number; height: number } | null;

// IHDR is the first chunk: length(4) 'IHDR'(4) width(4) height(4), big-endian.
function pngSize(b: Uint8Array): Size {
  if (b.length < 24 || tag(b, 12) !== 'IHDR') return null;
  return { width: u32be(b, 16), height: u32be(b, 20) };
}

// The logical screen: the canvas every frame is drawn on.
function gifSize(b: Uint8Array): Size {
  return b.length < 10 ? null : { width: u16le(b, 6), height: u16le(b, 8) };
}

// RIFF header (12 bytes), then the first chunk: 'VP8 ' (lossy), 'VP8L' (lossless) or 'VP8X' (extended).
function webpSize(b: Uint8Array): Size {
  if (b.length < 30) return null;
  const chunk = tag(b, 12);
  if (chunk === 'VP8 ') {
    // frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height (2 bits of scaling above)
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return null;
    const bits = u32le(b, 21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  return null;
}

// BITMAPCOREHEADER (12 bytes: 16-bit sizes) or a later header (signed 32-bit; a negative height is top-down).
function bmpSize(b: Uint8Array): Size {
  if (b.length < 26) return null;
  const dib = u32le(b, 14);
  if (dib === 12) return { width: u16le(b, 18), height: u16le(b, 20) };
  if (dib < 40) return null;
  return { width: Math.abs(u32le(b, 18) | 0), height: Math.abs(u32le(b, 22) | 0) };
}

// The first IFD's ImageWidth (256) and ImageLength (257) entries, SHORT or LONG.
function tiffSize(b: Uint8Array): Size {
  if (b.length < 8) return null;
  const le = b[0] === 0x49;
  const u16 = (at: number) => (le ? u16le(b, at) : u16be(b, at));
  const u32 = (at: number) => (le ? u32le(b, at) : u32be(b, at));
  const ifd = u32(4);
  if (ifd < 8 || ifd + 2 > b.length) return null;
  const count = u16(ifd);
  let width = -1;
  let height = -1;
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > b.length) return null;
    const id = u16(e);
    if (id !== 256 && id !== 257) continue;
    const type = u16(e + 2);
    const value = type === 3 ? u16(e + 8) : type === 4 ? u32(e + 8) : -1;
    if (value < 0) return null;
    if (id === 256) width = value;
    else height = value;
  }
  return width >= 0 && height >= 0 ? { width, height } : null;
}

/** The kind and size of an encoded image from its header, or null (not an image, AVIF, or a header that does not read). */
export function readImageHeader(b: Uint8Array): ImageHeader | null {
  const kind = sniffImage(b);
  let size: Size = null;
  if (kind === 'jpeg') size = jpegFrame(b);
  else if (kind === 'png') size = pngSize(b);
  else if (kind === 'gif') size = gifSize(b);
  else if (kind === 'webp') size = webpSize(b);
  else if (kind === 'bmp') size = bmpSize(b);
  else if (kind === 'tiff') size = tiffSize(b);
  return kind && size ? { kind, width: size.width, height: size.height } : null;
}
