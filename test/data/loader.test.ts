// BatchLoader: batches of index arrays -> image and label tensors, decoded in parallel, seeded augmentation.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { BadImageError } from '../../src/data/image/bad-image-error.js';
import { loadPixels } from '../../src/data/image/source.js';
import { applyTransform, normalisationOf, planTransform } from '../../src/data/image/transform.js';
import type { TransformConfig } from '../../src/data/image/transform-config.js';
import { BatchLoader, type BatchLoaderOptions, type LoadedBatch } from '../../src/data/loader/batch-loader.js';
import type { RawImage, Sample } from '../../src/data/types.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

const DIR = join(GOLDEN_DIR, 'pipeline');
const GOOD = ['photo.jpg', 'alpha.png', 'gray.jpg', 'cmyk.jpg', 'photo.webp', 'small.png', 'palette.png', 'large.jpg'];
const SAMPLES: Sample[] = GOOD.map((f, i) => ({ path: join(DIR, f), label: i % 3 }));
// Small sizes keep the test fast; the arithmetic is the same as at 256/224.
const SMALL: TransformConfig = {
  resize: { width: 40, height: 36 },
  crop: { width: 32, height: 28 },
  flipProbability: 0.5,
  colorOrder: 'RGB',
  range: 1,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};
const BATCHES = [
  [0, 1, 2],
  [3, 4, 5],
  [6, 7, 0],
];

function loader(options: Partial<BatchLoaderOptions> = {}): BatchLoader {
  return new BatchLoader({ dataset: {}, samples: SAMPLES, transform: SMALL, mode: 'train', workers: 0, ...options });
}

interface Plain {
  batch: number;
  shape: number[];
  images: number[];
  labels: number[];
  indices: number[];
}

async function collect(l: BatchLoader, batches: number[][], epoch = 0, firstBatch = 0): Promise<Plain[]> {
  const out: Plain[] = [];
  for await (const b of l.batches(batches, { epoch, firstBatch })) {
    out.push(plain(b));
    b.dispose();
  }
  return out;
}

function plain(b: LoadedBatch): Plain {
  return {
    batch: b.batch,
    shape: [...b.images.shape],
    images: b.images.toArray(),
    labels: b.labels.toArray(),
    indices: b.indices,
  };
}

test('eval batches: shapes, int64 labels, order, and the same values as the single-image transform', async () => {
  const l = loader({ mode: 'eval' });
  const got: LoadedBatch[] = [];
  for await (const b of l.batches(BATCHES)) got.push(b);
  assert.deepEqual(
    got.map((b) => [b.batch, b.images.shape, b.labels.dtype, b.labels.toArray(), b.indices]),
    BATCHES.map((idx, k) => [k, [3, 3, 28, 32], 'int64', idx.map((i) => (SAMPLES[i] as Sample).label), idx]),
  );
  const sample = SAMPLES[4] as Sample;
  const pixels = await loadPixels(sample, undefined, 3);
  const expected = new Float32Array(3 * 28 * 32);
  applyTransform(pixels, planTransform(pixels, SMALL, 'eval', [0, 0, 0]), normalisationOf(SMALL), expected, 0);
  const row = got[1]?.images.select(0, 1).flatten().toTypedArray() as Float32Array;
  assert.deepEqual([...row], [...expected]);
  assert.equal(got[1]?.samples[1], sample);
  for (const b of got) b.dispose();
});

test('decode workers give exactly the main-thread tensors, whatever the concurrency', async () => {
  const reference = await collect(loader(), BATCHES, 1);
  const pooled = loader({ workers: 2, concurrency: 3, prefetch: 1 });
  try {
    assert.deepEqual(await collect(pooled, BATCHES, 1), reference);
  } finally {
    await pooled.close();
  }
  assert.deepEqual(await collect(loader({ concurrency: 1, prefetch: 0 }), BATCHES, 1), reference);
});

test('augmentation is seeded: same seed and epoch repeat, another epoch or seed differs, resume matches', async () => {
  const full = await collect(loader({ seed: 3 }), BATCHES, 2);
  assert.deepEqual(await collect(loader({ seed: 3 }), BATCHES, 2), full);
  assert.notDeepEqual((await collect(loader({ seed: 3 }), BATCHES, 5))[0]?.images, full[0]?.images);
  assert.notDeepEqual((await collect(loader({ seed: 4 }), BATCHES, 2))[0]?.images, full[0]?.images);
  const resumed = await collect(loader({ seed: 3 }), BATCHES.slice(1), 2, 1);
  assert.deepEqual(resumed, full.slice(1));
  // The same image at the same position of batches 0 and 2 (index 0) gets different crops or flips.
  const per = 3 * 28 * 32;
  const first = full[0]?.images.slice(0, per);
  const third = full[2]?.images.slice(2 * per, 3 * per);
  assert.notDeepEqual(first, third);
});

test('prefetch prepares that many batches while the caller holds one; snapshot is taken right after each draw', async () => {
  let drawn = 0;
  function* counting() {
    for (const b of BATCHES) {
      drawn++;
      yield b;
    }
  }
  const l = loader({ prefetch: 1 });
  const seen: [number, unknown][] = [];
  for await (const b of l.batches(counting(), { snapshot: () => drawn })) {
    seen.push([drawn, b.snapshot]);
    b.dispose();
  }
  assert.deepEqual(seen, [
    [2, 1],
    [3, 2],
    [3, 3],
  ]);
});

test('a missing, truncated or non-image file stops loading with one line naming the file', async () => {
  for (const [file, reason] of [
    ['no-such-file.jpg', /image file not found/],
    ['truncated.jpg', /cannot decode image/],
    ['not-an-image.jpg', /cannot decode image/],
  ] as const) {
    for (const workers of [0, 1]) {
      const samples = [...SAMPLES, { path: join(DIR, file), label: 0 }];
      const l = loader({ samples, workers });
      try {
        await assert.rejects(collect(l, [[0, 8, 1]]), (e: unknown) => {
          assert.ok(e instanceof BadImageError, `${file}, workers ${workers}: ${e}`);
          assert.ok(e.message.startsWith(join(DIR, file)), e.message);
          assert.match(e.message, reason);
          assert.ok(!e.message.includes('\n'), 'one line');
          return true;
        });
      } finally {
        await l.close();
      }
    }
  }
});

test('skipBadImages leaves bad images out of their batch, warns for each and counts them', async () => {
  const bad = [join(DIR, 'truncated.jpg'), join(DIR, 'missing.png')];
  const samples = [...SAMPLES, ...bad.map((path) => ({ path, label: 2 }))];
  const warnings: string[] = [];
  const l = loader({ samples, skipBadImages: true, onWarning: (m) => warnings.push(m), mode: 'eval' });
  const got = await collect(l, [
    [0, 8, 1],
    [9, 8],
    [2, 3],
  ]);
  assert.deepEqual(
    got.map((b) => [b.batch, b.indices, b.shape[0]]),
    [
      [0, [0, 1], 2],
      [2, [2, 3], 2],
    ],
  );
  assert.deepEqual(l.skippedImages, [bad[0], bad[1], bad[0]]);
  assert.equal(warnings.length, 4);
  assert.match(warnings[0] as string, /^skipping .*truncated\.jpg: cannot decode image/);
  assert.equal(warnings[3], 'skipped 3 unreadable images in epoch 0');
  // Positions keep their draws: a batch without its bad image equals the full batch minus that image.
  const clean = await collect(loader({ mode: 'eval' }), [[0, 1]]);
  assert.deepEqual(got[0]?.images, clean[0]?.images);
});

test('the resized-image cache serves later epochs with identical results', async () => {
  const cached = loader({ cacheBytes: 10 * 40 * 36 * 3 });
  const first = await collect(cached, BATCHES, 0);
  // gray.jpg stays one channel.
  assert.deepEqual(cached.cacheStats, { hits: 1, misses: 8, bytes: 7 * 40 * 36 * 3 + 40 * 36 });
  const second = await collect(cached, BATCHES, 1);
  assert.equal(cached.cacheStats?.hits, 10);
  assert.deepEqual(first, await collect(loader(), BATCHES, 0));
  assert.deepEqual(second, await collect(loader(), BATCHES, 1));
  // Two in flight: the second sample 0 of an epoch is decoded after the first is cached (a hit).
  const pooled = loader({ cacheBytes: 1 << 20, workers: 1, concurrency: 2 });
  try {
    assert.deepEqual(await collect(pooled, BATCHES, 1), second);
    assert.deepEqual(await collect(pooled, BATCHES, 1), second);
    assert.equal(pooled.cacheStats?.hits, 10);
  } finally {
    await pooled.close();
  }
});

test('in-memory 28x28 grayscale data (readRaw) goes through without resize: values exact', async () => {
  const raw = (s: Sample): RawImage => {
    const k = Number(s.path.split('/')[1]);
    return {
      data: Uint8Array.from({ length: 784 }, (_, i) => (i * (k + 1)) % 256),
      width: 28,
      height: 28,
      channels: 1,
    };
  };
  const samples = [0, 1, 2].map((k) => ({ path: `fashion-mnist:train/${k}`, label: k }));
  const gray: TransformConfig = {
    resize: null,
    crop: null,
    flipProbability: 0,
    colorOrder: 'gray',
    range: 1,
    mean: [0.5],
    std: [0.5],
  };
  const l = new BatchLoader({ dataset: { readRaw: raw }, samples, transform: gray, mode: 'train', workers: 2 });
  const [b] = await collect(l, [[2, 0]]);
  await l.close();
  assert.deepEqual(b?.shape, [2, 1, 28, 28]);
  const expected = [2, 0].flatMap((k) =>
    Array.from({ length: 784 }, (_, i) => Math.fround((Math.fround(((i * (k + 1)) % 256) / 255) - 0.5) / 0.5)),
  );
  assert.deepEqual(b?.images, expected);
});

test('bad indices and settings are reported clearly', async () => {
  await assert.rejects(collect(loader(), [[0, 99]]), /batch 0: sample index 99 is outside 0\.\.7/);
  assert.throws(() => loader({ prefetch: -1 }), /prefetch must be an integer >= 0/);
  assert.throws(() => loader({ transform: { ...SMALL, crop: { width: 64, height: 8 } } }), /crop 64x8 is larger/);
});
