// The libjpeg-turbo fast path of decodeImage: gray and colour JPEGs decode to exactly Pillow's bytes
// (Image.open(...).convert('RGB' / 'L')), and whatever it cannot decode cleanly (CMYK, truncated, not a
// JPEG) is left to sharp, so those files behave as before.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/data/image/decode.js';
import { jpegDecode, jpegDecodeAvailable } from '../../src/tensor/kernels/jpeg.js';
import { GOLDEN_DIR } from '../helpers/golden.js';
import { referenceSkip, runReference } from '../helpers/reference-python.js';
import { needsInstalled } from '../helpers/skip.js';

const DIR = join(GOLDEN_DIR, 'pipeline');
const file = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// Built without libjpeg's headers the addon has no fast path (decoding still works, through sharp).
const HEADERS = needsInstalled(
  !existsSync('/usr/include/jpeglib.h') && 'no /usr/include/jpeglib.h (Debian: apt-get install libjpeg62-turbo-dev)',
);

test('libjpeg is found where its headers are (the fast path is in use)', { skip: HEADERS }, () => {
  assert.equal(jpegDecodeAvailable(), true);
});

test('photo.jpg, large.jpg and gray.jpg decode to exactly the bytes Pillow reads', {
  skip: HEADERS || referenceSkip(['PIL'], 'the comparison with Pillow'),
}, () => {
  const names = ['photo.jpg', 'large.jpg', 'gray.jpg'];
  const script = `import sys, hashlib, json
from PIL import Image
out = {}
for p in sys.argv[1:]:
    im = Image.open(p)
    im = im.convert('L' if im.mode == 'L' else 'RGB')
    out[p] = [im.size[0], im.size[1], len(im.getbands()), hashlib.sha256(im.tobytes()).hexdigest()]
print(json.dumps(out))`;
  const paths = names.map((n) => join(DIR, n));
  const pil = JSON.parse(runReference(['-c', script, ...paths])) as Record<string, [number, number, number, string]>;
  for (const p of paths) {
    const got = jpegDecode(new Uint8Array(readFileSync(p)));
    assert.ok(got, `${p} took the slow path`);
    assert.deepEqual([got.width, got.height, got.channels, sha(got.data)], pil[p], p);
  }
});

test('the fast path equals sharp on the same file', { skip: HEADERS }, async () => {
  const bytes = file('photo.jpg');
  const fast = jpegDecode(bytes);
  assert.ok(fast);
  const { data, info } = await sharp(bytes, { ignoreIcc: true })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.deepEqual([fast.width, fast.height, fast.channels], [info.width, info.height, info.channels]);
  assert.equal(sha(fast.data), sha(new Uint8Array(data)));
});

test('CMYK, truncated and non-JPEG bytes are left to sharp (null), and decodeImage still handles them', async () => {
  assert.equal(jpegDecode(file('cmyk.jpg')), null);
  assert.equal(jpegDecode(file('truncated.jpg')), null);
  assert.equal(jpegDecode(file('not-an-image.jpg')), null);
  assert.equal(jpegDecode(new Uint8Array([0xff, 0xd8, 0xff])), null);
  const cmyk = await decodeImage(file('cmyk.jpg'), 'cmyk.jpg');
  assert.equal(cmyk.cmyk, true);
  assert.equal(cmyk.channels, 4);
  await assert.rejects(decodeImage(file('not-an-image.jpg'), 'not-an-image.jpg'), /cannot decode image/);
});

test('scaleDenom decodes at a fraction of the size; a bad scale is refused', { skip: HEADERS }, () => {
  const bytes = file('photo.jpg');
  const full = jpegDecode(bytes);
  const half = jpegDecode(bytes, 2);
  assert.ok(full && half);
  assert.equal(half.width, Math.ceil(full.width / 2));
  assert.equal(half.height, Math.ceil(full.height / 2));
  assert.throws(() => jpegDecode(bytes, 3 as 2), /scaleDenom/);
  assert.throws(() => jpegDecode([1, 2] as unknown as Uint8Array), /Uint8Array/);
});
