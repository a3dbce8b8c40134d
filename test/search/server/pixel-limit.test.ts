// The pixel limit of query images (--max-pixels): read from the header and refused with 413 before anything
// is decoded (a 400-Mpx PNG of 48 KB; a header followed by garbage gets the same answer), at the boundary
// exactly; AVIF sized by sharp's metadata; a corrupt body below the limit is the embedder's 400, one line.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { flatPng } from '../../../bench/serve-memory/images.js';
import { DEFAULT_SERVER_OPTIONS } from '../../../src/search/server/options.js';
import { solidPng } from './fake-index.js';
import { type Fixture, fixtureServer, multipart, type SearchAnswer } from './helpers.js';

let f: Fixture;
let small: Fixture;
before(async () => {
  f = await fixtureServer();
  small = await fixtureServer({ maxPixels: 10_000 });
});
after(async () => {
  for (const x of [f, small]) {
    await x?.app.close();
    if (x) rmSync(x.root, { recursive: true, force: true });
  }
});

const raw = (x: Fixture, bytes: Uint8Array, type = 'image/png') =>
  x.app.inject({
    method: 'POST',
    url: '/api/search?k=1',
    headers: { 'content-type': type },
    payload: Buffer.from(bytes),
  });

test('the default limit is 50 Mpx: a 20000 x 20000 PNG (48 KB) gets 413 naming the limit, and is never decoded', async () => {
  assert.equal(DEFAULT_SERVER_OPTIONS.maxPixels, 50_000_000);
  const png = flatPng(20000, 20000);
  for (const r of [
    await raw(f, png),
    await f.app.inject({ method: 'POST', url: '/api/search', ...multipart({}, { bytes: png }) }),
  ]) {
    assert.equal(r.statusCode, 413, r.body);
    assert.equal(r.json().error, 'image: 20000 x 20000 pixels is above the limit of 50,000,000 pixels (--max-pixels)');
  }
  // only the header counts: the same header followed by garbage is refused the same way
  const garbage = Buffer.concat([png.subarray(0, 33), Buffer.alloc(1000, 0xab)]);
  assert.equal((await raw(f, garbage)).statusCode, 413);
  assert.deepEqual(f.embedder.calls, [], 'nothing reached the embedder');
});

test('a JPEG, a WebP and a GIF above the limit by their headers alone; at the limit exactly they pass', async () => {
  // SOI, then a baseline frame header of 8000 x 7000 (3 components), then nothing decodable
  const sof = Buffer.from([
    0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x1b, 0x58, 0x1f, 0x40, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
  ]);
  const r = await raw(f, Buffer.concat([sof, Buffer.alloc(64, 0x55)]), 'image/jpeg');
  assert.equal(r.statusCode, 413, r.body);
  assert.equal(r.json().error, 'image: 8000 x 7000 pixels is above the limit of 50,000,000 pixels (--max-pixels)');
  const colour = { width: 101, height: 100, channels: 3 as const, background: { r: 200, g: 20, b: 20 } };
  for (const [type, bytes] of [
    ['image/webp', await sharp({ create: colour }).webp().toBuffer()],
    ['image/gif', await sharp({ create: colour }).gif().toBuffer()],
    ['image/png', await sharp({ create: colour }).png().toBuffer()],
  ] as const) {
    const over = await raw(small, bytes, type);
    assert.equal(over.statusCode, 413, `${type}: ${over.body}`);
    assert.equal(over.json().error, 'image: 101 x 100 pixels is above the limit of 10,000 pixels (--max-pixels)');
  }
  const exactly = await raw(small, await solidPng([215, 40, 40], 100));
  assert.equal(exactly.statusCode, 200, exactly.body);
  assert.equal((exactly.json() as SearchAnswer).results[0]?.id, 'red/red-0.png');
});

test('AVIF (a header ours does not read) is sized by sharp: refused above the limit, searched below it', async () => {
  const avif = await sharp({ create: { width: 120, height: 90, channels: 3, background: { r: 40, g: 200, b: 50 } } })
    .avif()
    .toBuffer();
  const over = await raw(small, avif, 'image/avif');
  assert.equal(over.statusCode, 413, over.body);
  assert.match(over.json().error, /^image: 120 x 90 pixels is above the limit of 10,000 pixels/);
  const ok = await raw(f, avif, 'image/avif');
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal((ok.json() as SearchAnswer).results[0]?.label, 'green');
  const cut = await raw(f, avif.subarray(0, 40), 'image/avif');
  assert.equal(cut.statusCode, 400, cut.body);
  assert.match(cut.json().error, /^image: cannot read the header of this avif file \(.+\)$/);
});

test("a header of no pixels is 400; a corrupt body below the limit is the decoder's 400, in one line", async () => {
  const zero = Buffer.from(await solidPng([1, 2, 3], 8));
  zero.writeUInt32BE(0, 16); // IHDR width 0
  const r0 = await raw(f, zero);
  assert.equal(r0.statusCode, 400, r0.body);
  assert.equal(r0.json().error, 'image: the png file has no pixels');
  const png = await solidPng([10, 20, 30], 64);
  const corrupt = Buffer.from(png);
  corrupt.fill(0x42, 41, png.length - 12); // the IDAT's compressed pixels
  const r = await raw(f, corrupt);
  assert.equal(r.statusCode, 400, r.body);
  assert.match(r.json().error, /^image: cannot decode image \([^\n]+\)$/);
});
