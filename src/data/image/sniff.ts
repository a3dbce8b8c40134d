// The colour space of a JPEG or PNG read straight from its header, which saves sharp a separate
// metadata pass per image. Other formats (and anything unusual) return null: ask sharp.

export type SniffedSpace = 'cmyk' | 'gray' | 'colour';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A JPEG's frame header (SOF): component count and size, or null when none comes before the scan. */
export function jpegFrame(b: Uint8Array): { components: number; width: number; height: number } | null {
  if (!(b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff)) return null;
  let p = 2;
  while (p + 9 < b.length) {
    if (b[p] !== 0xff) return null;
    const marker = b[p + 1] as number;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2; // markers without a length
      continue;
    }
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): P, Y (height), X (width), then Nf at offset 9.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const u16 = (at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);
      return { components: b[p + 9] as number, height: u16(p + 5), width: u16(p + 7) };
    }
    if (marker === 0xda || marker === 0xd9) return null; // scan data or end before any frame header
    p += 2 + (((b[p + 2] as number) << 8) | (b[p + 3] as number));
  }
  return null;
}

function jpegSpace(b: Uint8Array): SniffedSpace | null {
  const components = jpegFrame(b)?.components;
  if (components === 1) return 'gray';
  if (components === 3) return 'colour';
  if (components === 4) return 'cmyk';
  return null;
}

function pngSpace(b: Uint8Array): SniffedSpace | null {
  // IHDR is the first chunk: length(4) 'IHDR'(4) width(4) height(4) bitDepth(1) colourType(1).
  if (b.length < 26 || b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) return null;
  const colourType = b[25];
  if (colourType === 0 || colourType === 4) return 'gray';
  if (colourType === 2 || colourType === 3 || colourType === 6) return 'colour';
  return null;
}

export function sniffColourSpace(b: Uint8Array): SniffedSpace | null {
  if (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpegSpace(b);
  if (b.length > 8 && PNG_SIGNATURE.every((v, i) => b[i] === v)) return pngSpace(b);
  if (b.length > 12 && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') return 'colour';
  return null;
}
