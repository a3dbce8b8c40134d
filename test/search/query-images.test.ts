// The query worker's per-image work (src/search/query-images.ts): never more decoded pixels alive than the
// budget allows (an image above it alone), the same model input as the index build's pipeline, drafted
// JPEGs only for a --jpeg-draft embedder, and a bad image failing alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { toPipelinePixels } from '../../src/data/image/colour.js';
import { decodeImage } from '../../src/data/image/decode.js';
import { draftTarget, type TransformConfig } from '../../src/data/image/transform-config.js';
import { type ImageResult, outChannelsOf, processPixels } from '../../src/data/loader/process-image.js';
import { IMAGENET_INPUT } from '../../src/nn/input-spec.js';
import {
  DECODE_BUDGET_PIXELS,
  decodedPixels,
  MAX_UNRESIZED_PIXELS,
  prepareQueryImages,
  type QueryImageHooks,
} from '../../src/search/query-images.js';
import { queryTransform } from '../../src/search/query-transform.js';
import { jpegDecodeAvailable } from '../../src/tensor/kernels/jpeg.js';
import { WeightedLimiter } from '../../src/util/weighted-limiter.js';

const small = { ...IMAGENET_INPUT, size: 56 };
const WHOLE = queryTransform(small, 64, 56);
const DRAFT = queryTransform(small, 64, 56, true);

function noise(w: number, h: number, seed: number, channels: 1 | 3 | 4 = 3) {
  const px = Buffer.alloc(w * h * channels);
  let s = seed;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    px[i] = ((s >>> 24) + ((i / channels) % w)) & 255;
  }
  return sharp(px, { raw: { width: w, height: h, channels } });
}

/** Counts the images being decoded or holding decoded pixels (and those pixels) at once, through the hooks. */
function aliveCounter() {
  const alive = new Map<number, number>();
  let maxImages = 0;
  let maxPixels = 0;
  const hooks: QueryImageHooks = {
    onDecoding(i, pixels) {
      alive.set(i, pixels);
      maxImages = Math.max(maxImages, alive.size);
      maxPixels = Math.max(
        maxPixels,
        [...alive.values()].reduce((a, b) => a + b, 0),
      );
    },
    onDone(i) {
      assert.ok(alive.delete(i), `image ${i + 1} done without being decoded`);
    },
  };
  return { hooks, max: () => ({ images: maxImages, pixels: maxPixels }), alive: () => alive.size };
}

/** What `index build` computes for an image: its loader's decode, conversion and transform. */
async function buildPipeline(bytes: Uint8Array, config: TransformConfig): Promise<ImageResult> {
  const decoded = await decodeImage(bytes, 'x', { draftTo: draftTarget(config) });
  const pixels = toPipelinePixels(decoded, outChannelsOf(config));
  return processPixels('x', pixels, { config, mode: 'eval', draws: [0.5, 0.5, 1], keepResized: false });
}

test('a batch of 6 JPEGs (60,000 px each) with room for 100,000 decoded px: one decoded image at a time', async () => {
  const jpegs = await Promise.all([1, 2, 3, 4, 5, 6].map(async (s) => noise(300, 200, s).jpeg().toBuffer()));
  const count = aliveCounter();
  const limiter = new WeightedLimiter(100_000);
  const out = await prepareQueryImages(jpegs, { config: WHOLE, limiter, hooks: count.hooks });
  assert.ok(out.every((r) => !(r instanceof Error)));
  assert.deepEqual(count.max(), { images: 1, pixels: 60_000 });
  assert.equal(count.alive(), 0);
  assert.equal(limiter.inUse, 0);
});

test('PNGs (decoded by sharp, off the thread) side by side within the budget, and never above it', async () => {
  const pngs = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(async (s) => noise(200, 100, s).png().toBuffer()));
  const count = aliveCounter();
  const out = await prepareQueryImages(pngs, {
    config: WHOLE,
    limiter: new WeightedLimiter(60_000),
    hooks: count.hooks,
  });
  assert.ok(out.every((r) => !(r instanceof Error)));
  // the first three start at once (their decodes run in libuv's pool), the rest as room is given back
  assert.deepEqual(count.max(), { images: 3, pixels: 60_000 });
});

test('an image larger than the budget decodes alone, the images around it before and after it', async () => {
  const bytes = [
    await noise(100, 100, 1).png().toBuffer(),
    await noise(400, 300, 2).png().toBuffer(),
    await noise(100, 100, 3).png().toBuffer(),
  ];
  const events: string[] = [];
  await prepareQueryImages(bytes, {
    config: WHOLE,
    limiter: new WeightedLimiter(50_000),
    hooks: { onDecoding: (i) => events.push(`decoding ${i + 1}`), onDone: (i) => events.push(`done ${i + 1}`) },
  });
  assert.deepEqual(events, ['decoding 1', 'done 1', 'decoding 2', 'done 2', 'decoding 3', 'done 3']);
});

test('model inputs equal the build pipeline, whole and drafted; drafting only with --jpeg-draft', async () => {
  const bytes = [
    await noise(640, 480, 1).jpeg().toBuffer(),
    await noise(300, 200, 2, 1).toColourspace('b-w').jpeg().toBuffer(),
    await noise(300, 200, 3, 4).png().toBuffer(),
    await noise(256, 256, 4).webp().toBuffer(),
    await noise(200, 160, 5).toColourspace('cmyk').jpeg().toBuffer(),
  ];
  for (const config of [WHOLE, DRAFT]) {
    const out = await prepareQueryImages(bytes, { config, limiter: new WeightedLimiter(1e6) });
    for (const [i, b] of bytes.entries()) {
      const expected = await buildPipeline(b, config);
      const got = out[i] as ImageResult;
      assert.deepEqual(got.shape, [3, 56, 56]);
      assert.deepEqual(got.chw, expected.chw, `image ${i + 1}, jpegDraft ${config.jpegDraft === true}`);
    }
  }
  // the 640x480 photo drafted to 1/4 (160x120, covering 64x64) differs from its whole decode; without
  // libjpeg (no fast path: sharp decodes every JPEG whole) the two are the same
  const [whole] = await prepareQueryImages(bytes.slice(0, 1), { config: WHOLE, limiter: new WeightedLimiter(1e6) });
  const [draft] = await prepareQueryImages(bytes.slice(0, 1), { config: DRAFT, limiter: new WeightedLimiter(1e6) });
  if (jpegDecodeAvailable()) assert.notDeepEqual((whole as ImageResult).chw, (draft as ImageResult).chw);
  else assert.deepEqual((whole as ImageResult).chw, (draft as ImageResult).chw);
});

test('an empty and a corrupt image fail alone (BadImageError, one line); the others are unaffected', async () => {
  const good = await noise(120, 90, 1).jpeg().toBuffer();
  const corrupt = Buffer.from(good.subarray(0, Math.floor(good.length / 2)));
  const count = aliveCounter();
  const out = await prepareQueryImages([good, new Uint8Array(0), corrupt, good], {
    config: WHOLE,
    limiter: new WeightedLimiter(1e6),
    hooks: count.hooks,
  });
  assert.ok(!(out[0] instanceof Error) && !(out[3] instanceof Error));
  assert.deepEqual((out[0] as ImageResult).chw, (out[3] as ImageResult).chw);
  assert.equal((out[1] as Error).name, 'BadImageError');
  assert.match((out[1] as Error).message, /^image 2: empty upload$/);
  assert.equal((out[2] as Error).name, 'BadImageError');
  assert.match((out[2] as Error).message, /^image 3: cannot decode image \(.+\)$/);
  assert.equal(count.alive(), 0);
});

test('decodedPixels: whole size, a drafted JPEG at its reduced size (not CMYK), unknown headers weigh the budget', async () => {
  const to = { width: 64, height: 64 };
  const jpeg = await noise(421, 201, 1).jpeg().toBuffer();
  assert.equal(decodedPixels(jpeg, undefined, 1e9), 421 * 201);
  // min(421 // 64, 201 // 64) = 3: draft scale 2, libjpeg rounds the reduced size up (without libjpeg
  // sharp decodes the JPEG whole, and the estimate says so)
  const decoded = await decodeImage(jpeg, 'x', { draftTo: to });
  assert.equal(decodedPixels(jpeg, to, 1e9), decoded.width * decoded.height);
  if (jpegDecodeAvailable()) assert.deepEqual([decoded.width, decoded.height], [211, 101]);
  const cmyk = await noise(421, 201, 1).toColourspace('cmyk').jpeg().toBuffer();
  assert.equal(decodedPixels(cmyk, to, 1e9), 421 * 201, 'CMYK JPEGs are decoded whole by sharp');
  const png = await noise(333, 111, 1).png().toBuffer();
  assert.equal(decodedPixels(png, to, 1e9), 333 * 111);
  assert.equal(decodedPixels(Buffer.from('not an image at all'), to, 12345), 12345);
});

test('an index without resize and crop: a query above MAX_UNRESIZED_PIXELS is refused before decoding', async () => {
  const own = queryTransform(small, 0, 0);
  assert.equal(own.resize, null);
  const flat = (side: number) =>
    sharp({ create: { width: side, height: side, channels: 3, background: { r: 9, g: 99, b: 199 } } })
      .png()
      .toBuffer();
  const count = aliveCounter();
  const [big, fits] = await prepareQueryImages([await flat(2049), await flat(2048)], {
    config: own,
    limiter: new WeightedLimiter(DECODE_BUDGET_PIXELS),
    hooks: count.hooks,
  });
  assert.equal((big as Error).name, 'BadImageError');
  assert.equal(
    (big as Error).message,
    `image 1: 2049 x 2049 pixels: this index embeds images at their own size (built with --resize 0 --crop 0), at most 4,194,304 pixels`,
  );
  assert.deepEqual((fits as ImageResult).shape, [3, 2048, 2048]);
  assert.equal(count.max().images, 1, 'the refused image was never decoded');
  assert.ok(2048 * 2048 <= MAX_UNRESIZED_PIXELS);
});
