// Reading the colour space from JPEG/PNG headers agrees with sharp's metadata.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { sniffColourSpace } from '../../src/data/image/sniff.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

const DIR = join(GOLDEN_DIR, 'pipeline');

test('fixture headers give the colour space sharp reports', async () => {
  const expected: Record<string, string | null> = {
    'photo.jpg': 'colour',
    'large.jpg': 'colour',
    'gray.jpg': 'gray',
    'cmyk.jpg': 'cmyk',
    'alpha.png': 'colour',
    'palette.png': 'colour',
    'small.png': 'colour',
    'photo.webp': 'colour',
    'not-an-image.jpg': null,
  };
  for (const [name, space] of Object.entries(expected)) {
    const bytes = readFileSync(join(DIR, name));
    assert.equal(sniffColourSpace(bytes), space, name);
    if (space === null) continue;
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.space === 'cmyk' ? 'cmyk' : meta.space === 'b-w' ? 'gray' : 'colour', space, `${name}: sharp`);
  }
});

test('grayscale PNGs, with and without alpha, and unknown formats', async () => {
  const gray = await sharp(Buffer.alloc(12, 7), { raw: { width: 4, height: 3, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  const grayAlpha = await sharp(Buffer.alloc(24, 7), { raw: { width: 4, height: 3, channels: 2 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  const tiff = await sharp(Buffer.alloc(36, 7), { raw: { width: 4, height: 3, channels: 3 } })
    .tiff()
    .toBuffer();
  assert.equal(sniffColourSpace(gray), 'gray');
  assert.equal(sniffColourSpace(grayAlpha), 'gray');
  assert.equal(sniffColourSpace(tiff), null, 'TIFF is left to sharp');
  assert.equal(sniffColourSpace(Uint8Array.of(0xff, 0xd8, 0xff)), null, 'a JPEG cut inside its header');
});
