// The server over the real query embedder (its worker thread decodes): now that the route reads only
// headers, a corrupt image body is refused by the worker's decode, as a 400 with one line naming no batch
// position, never a 500; good images in the same micro-batch are unaffected. And the worker's decoding is
// bounded: 8 concurrent 16-Mpx uploads raise this process's peak resident memory by about one decoded
// image, not eight (bench/serve-memory measures 49-Mpx uploads to a `serve` process: 28 s, too slow here).
import assert from 'node:assert/strict';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { memoryIndex } from '../../../bench/serve-memory/measure.js';
import { openIndex } from '../../../src/search/open-index.js';
import { createQueryEmbedder } from '../../../src/search/query-embedder.js';
import { createSearchServer } from '../../../src/search/server/app.js';
import type { QueryEmbedder, VisualSearchIndex } from '../../../src/search/types.js';
import { cannotApplyHere } from '../../helpers/skip.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-real-decode-'));
let index: VisualSearchIndex;
let embedder: QueryEmbedder;
let app: FastifyInstance;
const logged: string[] = [];
let photo: Buffer;

before(async () => {
  index = await openIndex(await memoryIndex(dir, false));
  embedder = await createQueryEmbedder(index.embedder);
  app = createSearchServer({
    index,
    embedder,
    pixels: null,
    options: { batchWindowMs: 50 },
    log: (l) => logged.push(l),
  });
  await app.ready();
  const px = Buffer.alloc(320 * 240 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7 + (i >> 9)) & 255;
  photo = await sharp(px, { raw: { width: 320, height: 240, channels: 3 } })
    .jpeg()
    .toBuffer();
});
after(async () => {
  await app?.close();
  await embedder?.close();
  await index?.close();
  rmSync(dir, { recursive: true, force: true });
});

const raw = (bytes: Uint8Array, type = 'image/jpeg') =>
  app.inject({
    method: 'POST',
    url: '/api/search?k=3',
    headers: { 'content-type': type },
    payload: Buffer.from(bytes),
  });

test('a truncated JPEG and a PNG with broken pixel data: 400 from the decode, one line; good ones beside them 200', async () => {
  const truncated = photo.subarray(0, Math.floor(photo.length / 2));
  const png = Buffer.from(await sharp(photo).png().toBuffer());
  png.fill(0x42, 60, png.length - 12);
  // all four in one micro-batch of the worker
  const [a, b, c, d] = await Promise.all([raw(photo), raw(truncated), raw(png, 'image/png'), raw(photo)]);
  assert.equal(a?.statusCode, 200, a?.body);
  assert.equal(d?.statusCode, 200, d?.body);
  assert.deepEqual(a?.json().results, d?.json().results);
  for (const r of [b, c]) {
    assert.equal(r?.statusCode, 400, r?.body);
    const error = r?.json().error as string;
    assert.match(error, /^image: cannot decode image \(.+\)$/);
    assert.ok(!error.includes('\n'), error);
  }
  assert.match(b?.json().error, /JPEG/i);
  assert.deepEqual(logged, [], 'no 5xx was logged');
});

function clearRefsWritable(): boolean {
  try {
    accessSync('/proc/self/clear_refs', constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
const NO_PEAK_RESET = cannotApplyHere(
  !clearRefsWritable() && 'no writable /proc/self/clear_refs (Linux) to reset the peak resident memory (VmHWM)',
);

const statusMiB = (field: string) =>
  Number(readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1]) / 1024;

test('8 concurrent 4000 x 4000 JPEG uploads (46 MiB decoded each): the peak resident memory rises by under 250 MiB', {
  skip: NO_PEAK_RESET,
}, async () => {
  // flat 24 x 24 blocks scaled up: quick to make, small on the wire, 16 Mpx to decode all the same
  const px = Buffer.alloc(24 * 24 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 97) & 255;
  const jpeg = await sharp(px, { raw: { width: 24, height: 24, channels: 3 } })
    .resize(4000, 4000, { kernel: 'nearest' })
    .jpeg()
    .toBuffer();
  assert.equal((await raw(jpeg)).statusCode, 200); // the worker's first large image, outside the measure
  writeFileSync('/proc/self/clear_refs', '5'); // VmHWM := VmRSS
  const before = statusMiB('VmRSS');
  const answers = await Promise.all(Array.from({ length: 8 }, () => raw(jpeg)));
  const rise = statusMiB('VmHWM') - before;
  assert.deepEqual(
    answers.map((r) => r.statusCode),
    [200, 200, 200, 200, 200, 200, 200, 200],
  );
  // measured: about 150 MiB (one image of 46 MiB at a time, and the forward pass); 350 MiB when the
  // worker decoded the whole batch before resizing any
  assert.ok(rise < 250, `peak resident memory rose by ${Math.round(rise)} MiB`);
});
