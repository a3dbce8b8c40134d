// Reading an image's kind and size from its header agrees with sharp's metadata() for every format and
// variant sharp writes (and hand-made BMP and big-endian TIFF headers), never throws on a cut or random
// header, and reads a 400-Mpx PNG's size without decoding it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import sharp from 'sharp';
import { flatPng } from '../../bench/serve-memory/images.js';
import { readImageHeader } from '../../src/data/image/header.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

/** A seeded noise image of w x h with c channels (3: RGB, 4: RGBA, 1: grey). */
function noise(w: number, h: number, c: 1 | 3 | 4, seed = 1) {
  const px = Buffer.alloc(w * h * c);
  let s = seed;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    px[i] = s >>> 24;
  }
  return sharp(px, { raw: { width: w, height: h, channels: c } });
}

async function variants(): Promise<[string, Buffer][]> {
  const w = 37;
  const h = 23;
  return [
    ['jpeg baseline', await noise(w, h, 3).jpeg().toBuffer()],
    ['jpeg progressive', await noise(w, h, 3).jpeg({ progressive: true }).toBuffer()],
    ['jpeg grey', await noise(w, h, 1).toColourspace('b-w').jpeg().toBuffer()],
    ['jpeg cmyk', await noise(w, h, 3).toColourspace('cmyk').jpeg().toBuffer()],
    ['jpeg with exif', await noise(w, h, 3).withMetadata({ orientation: 6 }).jpeg().toBuffer()],
    ['png rgb', await noise(w, h, 3).png().toBuffer()],
    ['png rgba 16-bit', await noise(w, h, 4).png().toColourspace('rgb16').toBuffer()],
    ['png palette', await noise(w, h, 3).png({ palette: true }).toBuffer()],
    ['webp lossy', await noise(w, h, 3).webp().toBuffer()],
    ['webp lossless', await noise(w, h, 3).webp({ lossless: true }).toBuffer()],
    ['webp lossy with alpha (VP8X)', await noise(w, h, 4).webp().toBuffer()],
    ['gif', await noise(w, h, 3).gif().toBuffer()],
    ['tiff', await noise(w, h, 3).tiff().toBuffer()],
    ['tiff deflate', await noise(w, h, 3).tiff({ compression: 'deflate' }).toBuffer()],
  ];
}

test('the size read from the header is the size sharp reports, for every format and variant', async () => {
  for (const [name, bytes] of await variants()) {
    const meta = await sharp(bytes).metadata();
    const header = readImageHeader(bytes);
    assert.ok(header, `${name}: no header read`);
    assert.equal(header.kind, meta.format === 'heif' ? 'avif' : meta.format, name);
    assert.deepEqual([header.width, header.height], [meta.width, meta.height], name);
    assert.deepEqual([header.width, header.height], [37, 23], name);
  }
});

test('the golden fixtures: photos, CMYK, palette, alpha; a truncated JPEG still has its header', async () => {
  const dir = join(GOLDEN_DIR, 'pipeline');
  for (const name of ['photo.jpg', 'large.jpg', 'gray.jpg', 'cmyk.jpg', 'alpha.png', 'palette.png', 'photo.webp']) {
    const bytes = readFileSync(join(dir, name));
    const meta = await sharp(bytes).metadata();
    const header = readImageHeader(bytes);
    assert.deepEqual([header?.width, header?.height], [meta.width, meta.height], name);
  }
  const truncated = readImageHeader(readFileSync(join(dir, 'truncated.jpg')));
  assert.equal(truncated?.kind, 'jpeg');
  assert.ok((truncated?.width ?? 0) > 0);
  assert.equal(readImageHeader(readFileSync(join(dir, 'not-an-image.jpg'))), null);
});

test('hand-made headers: BMP (top-down and 16-bit core header), big-endian TIFF with LONG sizes', () => {
  // BITMAPINFOHEADER: 'BM', file size, reserved, pixel offset, header size 40, width 300, height -200 (top-down)
  const bmp = Buffer.alloc(54);
  bmp.write('BM', 0, 'latin1');
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(300, 18);
  bmp.writeInt32LE(-200, 22);
  assert.deepEqual(readImageHeader(bmp), { kind: 'bmp', width: 300, height: 200 });
  const core = Buffer.alloc(26);
  core.write('BM', 0, 'latin1');
  core.writeUInt32LE(12, 14);
  core.writeUInt16LE(640, 18);
  core.writeUInt16LE(480, 20);
  assert.deepEqual(readImageHeader(core), { kind: 'bmp', width: 640, height: 480 });
  // MM, 42, IFD at 8: 3 entries (an unrelated SHORT first), ImageWidth LONG 70000, ImageLength SHORT 5
  const tiff = Buffer.alloc(8 + 2 + 3 * 12 + 4);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(3, 8);
  const entry = (i: number, id: number, type: number, value: number) => {
    const at = 10 + i * 12;
    tiff.writeUInt16BE(id, at);
    tiff.writeUInt16BE(type, at + 2);
    tiff.writeUInt32BE(1, at + 4);
    if (type === 3) tiff.writeUInt16BE(value, at + 8);
    else tiff.writeUInt32BE(value, at + 8);
  };
  entry(0, 254, 4, 0);
  entry(1, 256, 4, 70000);
  entry(2, 257, 3, 5);
  assert.deepEqual(readImageHeader(tiff), { kind: 'tiff', width: 70000, height: 5 });
  // a TIFF whose IFD lies past the end, or whose size entry has another type: no size
  const far = Buffer.from(tiff);
  far.writeUInt32BE(1000, 4);
  assert.equal(readImageHeader(far), null);
  const rational = Buffer.from(tiff);
  rational.writeUInt16BE(5, 10 + 12 + 2);
  assert.equal(readImageHeader(rational), null);
});

test('a 20000 x 20000 PNG (400 Mpx, 48 KB): its size from the header, which sharp refuses to read by default', async () => {
  const png = flatPng(20000, 20000);
  assert.deepEqual(readImageHeader(png), { kind: 'png', width: 20000, height: 20000 });
  await assert.rejects(sharp(png).metadata(), /exceeds pixel limit/);
  // only the first 24 bytes count: the same answer with the rest cut off
  assert.deepEqual(readImageHeader(png.subarray(0, 24)), { kind: 'png', width: 20000, height: 20000 });
});

test('every prefix of every header reads as null or as the full size, never throws', async () => {
  for (const [name, bytes] of await variants()) {
    const full = readImageHeader(bytes);
    for (let n = 0; n <= Math.min(bytes.length, 400); n++) {
      const h = readImageHeader(bytes.subarray(0, n));
      if (h !== null) assert.deepEqual(h, full, `${name} cut at ${n}`);
    }
  }
});

test('random bytes after any signature: no throw, sizes are whole numbers', () => {
  const signatures = [
    [0xff, 0xd8, 0xff],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    [...Buffer.from('RIFF')],
    [...Buffer.from('GIF89a')],
    [...Buffer.from('BM')],
    [0x49, 0x49, 0x2a, 0x00],
    [0x4d, 0x4d, 0x00, 0x2a],
  ];
  fc.assert(
    fc.property(fc.constantFrom(...signatures), fc.uint8Array({ maxLength: 120 }), (sig, rest) => {
      const bytes = Uint8Array.from([...sig, ...rest]);
      if (sig[0] === 0x52 && bytes.length >= 12) bytes.set(Buffer.from('WEBP'), 8);
      const h = readImageHeader(bytes);
      if (h === null) return true;
      return Number.isInteger(h.width) && Number.isInteger(h.height) && h.width >= 0 && h.height >= 0;
    }),
    { seed: 17, numRuns: 2000 },
  );
});
