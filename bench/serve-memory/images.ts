// The uploads of the serve memory benchmark (and of its test): a large photo-like JPEG, and a huge PNG that
// is tiny on the wire.
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/**
 * A width x height JPEG of smooth colour fields (a seeded 24x24 noise image scaled up with a cubic kernel):
 * every 8x8 block is decoded for real, and the file stays a few MB (about 1.6 MB at 7000 x 7000).
 */
export async function smoothJpeg(width: number, height: number, seed = 1): Promise<Buffer> {
  const n = 24;
  const px = Buffer.alloc(n * n * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    px[i] = s >>> 24;
  }
  return sharp(px, { raw: { width: n, height: n, channels: 3 } })
    .resize(width, height, { kernel: 'cubic' })
    .jpeg({ quality: 90 })
    .toBuffer();
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid, all-black 1-bit grey PNG of width x height (20000 x 20000: 400 Mpx in about 60 KB). */
export function flatPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // colour type: grey
  const rows = Buffer.alloc(height * (1 + Math.ceil(width / 8))); // filter byte 0 and zero bits, every row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
