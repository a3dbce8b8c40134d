// Crop placement, flips, seeded augmentation draws and transform settings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { augmentDraws, drawInt } from '../../src/data/image/augment.js';
import { planTransform, resizeWhole, roundHalfEven } from '../../src/data/image/transform.js';
import {
  IMAGENET_TRANSFORM,
  type TransformConfig,
  transformForInput,
  validateTransform,
} from '../../src/data/image/transform-config.js';
import {
  CAFFE_BGR_INPUT,
  CLIP_INPUT,
  DINO_INPUT,
  GRAY28_INPUT,
  IMAGENET_INPUT,
  TORCHVISION_VIT_INPUT,
} from '../../src/nn/input-spec.js';

test('roundHalfEven is Python round(): halves go to the even neighbour', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 15.5, 16, 6.4, 6.6, 13 / 2].map(roundHalfEven), [0, 2, 2, 16, 16, 6, 7, 6]);
});

test('eval mode centre-crops like torchvision CenterCrop and never flips', () => {
  const plan = planTransform({ width: 500, height: 375 }, IMAGENET_TRANSFORM, 'eval', [0.9, 0.9, 0]);
  assert.deepEqual(plan, {
    resize: { width: 256, height: 256 },
    window: { x: 16, y: 16, width: 224, height: 224 },
    flip: false,
  });
  const odd: TransformConfig = { ...IMAGENET_TRANSFORM, resize: { width: 255, height: 237 } };
  // (255 - 224) / 2 = 15.5 -> 16; (237 - 224) / 2 = 6.5 -> 6.
  assert.deepEqual(planTransform({ width: 9, height: 9 }, odd, 'eval', [0, 0, 0]).window, {
    x: 16,
    y: 6,
    width: 224,
    height: 224,
  });
});

test('train mode draws crop offsets over every position and flips with the configured probability', () => {
  const at = (draws: [number, number, number]) =>
    planTransform({ width: 1, height: 1 }, IMAGENET_TRANSFORM, 'train', draws);
  assert.deepEqual(at([0, 0, 0.5]).window, { x: 0, y: 0, width: 224, height: 224 });
  assert.equal(at([0, 0, 0.5]).flip, false);
  assert.equal(at([0, 0, 0.4999]).flip, true);
  const far = at([0.99999, 0.99999, 0]);
  assert.deepEqual([far.window.y, far.window.x], [32, 32]);
  // Row from the first draw, column from the second (torchvision RandomCrop draws top, then left).
  const mixed = at([0.5, 0.25, 1]).window;
  assert.deepEqual([mixed.y, mixed.x], [16, 8]);
  const noFlip = planTransform(
    { width: 1, height: 1 },
    { ...IMAGENET_TRANSFORM, flipProbability: 0 },
    'train',
    [0, 0, 0],
  );
  assert.equal(noFlip.flip, false);
});

test('without a resize the crop must fit the image', () => {
  const config: TransformConfig = { ...IMAGENET_TRANSFORM, resize: null, crop: { width: 28, height: 28 } };
  assert.throws(
    () => planTransform({ width: 20, height: 30 }, config, 'eval', [0, 0, 0]),
    /20x30, smaller than the 28x28 crop/,
  );
  const none: TransformConfig = { ...config, crop: null };
  assert.deepEqual(planTransform({ width: 20, height: 30 }, none, 'train', [0.7, 0.7, 0.9]).window, {
    x: 0,
    y: 0,
    width: 20,
    height: 30,
  });
});

test('augmentation draws depend only on (seed, epoch, batch, position)', () => {
  const key = { seed: 7, epoch: 3, batch: 11, position: 5 };
  assert.deepEqual(augmentDraws(key), augmentDraws({ ...key }));
  const variants = [
    { ...key, seed: 8 },
    { ...key, seed: 7 + 2 ** 32 },
    { ...key, epoch: 4 },
    { ...key, batch: 12 },
    { ...key, position: 6 },
  ];
  for (const v of variants) assert.notDeepEqual(augmentDraws(v), augmentDraws(key), JSON.stringify(v));
  assert.throws(() => augmentDraws({ ...key, batch: -1 }), /batch must be a non-negative integer/);
});

test('augmentation draws are uniform: offsets cover 0..32 evenly and flips are fair', () => {
  const counts = new Array(33).fill(0);
  let flips = 0;
  const n = 33 * 400;
  for (let i = 0; i < n; i++) {
    const [u0, , u2] = augmentDraws({ seed: 1, epoch: 0, batch: Math.floor(i / 75), position: i % 75 });
    counts[drawInt(u0, 33)]++;
    if (u2 < 0.5) flips++;
  }
  // Binomial(13200, 1/33): sd ~ 19.7; 6 sd bounds make a false failure practically impossible.
  for (const c of counts) assert.ok(Math.abs(c - 400) < 120, `offset count ${c}`);
  assert.ok(Math.abs(flips / n - 0.5) < 0.03, `flip rate ${flips / n}`);
  // Neighbouring positions are not correlated.
  let agree = 0;
  for (let i = 0; i < 2000; i++) {
    const a = augmentDraws({ seed: 1, epoch: 0, batch: 0, position: i })[2] < 0.5;
    const b = augmentDraws({ seed: 1, epoch: 0, batch: 0, position: i + 1 })[2] < 0.5;
    if (a === b) agree++;
  }
  assert.ok(Math.abs(agree / 2000 - 0.5) < 0.06, `agreement ${agree / 2000}`);
});

test('transforms for the backbones input specs', () => {
  assert.deepEqual(transformForInput(IMAGENET_INPUT), IMAGENET_TRANSFORM);
  const caffe = transformForInput(CAFFE_BGR_INPUT);
  assert.deepEqual([caffe.colorOrder, caffe.range, caffe.mean], ['BGR', 255, [104, 117, 128]]);
  const gray = transformForInput(GRAY28_INPUT);
  assert.deepEqual([gray.resize, gray.crop, gray.flipProbability, gray.colorOrder], [null, null, 0, 'gray']);
  for (const c of [IMAGENET_TRANSFORM, caffe, gray]) validateTransform(c);
});

test("a ViT's transform: its publisher's shorter-side resize and filter; train mode crops the resized image", () => {
  const dino = transformForInput(DINO_INPUT);
  assert.deepEqual(
    [dino.resize, dino.resizeMode, dino.filter, dino.crop, dino.flipProbability],
    [{ width: 256, height: 256 }, 'shorter', 'bicubic', { width: 224, height: 224 }, 0.5],
  );
  const clip = transformForInput(CLIP_INPUT);
  assert.deepEqual(
    [clip.resize?.width, clip.resizeMode, clip.filter, clip.std[0]],
    [224, 'shorter', 'bicubic', 0.26862954],
  );
  const tv = transformForInput(TORCHVISION_VIT_INPUT);
  assert.deepEqual([tv.resize?.width, tv.resizeMode, tv.filter], [256, 'shorter', undefined]);
  for (const c of [dino, clip, tv]) validateTransform(c);
  // 389 x 251: the height to 256, the width to int(256 * 389 / 251) = 396; the crop anywhere in it.
  const landscape = { width: 389, height: 251 };
  assert.deepEqual(planTransform(landscape, dino, 'eval', [0.5, 0.5, 0.9]), {
    resize: { width: 396, height: 256 },
    window: { x: 86, y: 16, width: 224, height: 224 },
    flip: false,
    filter: 'bicubic',
  });
  const last = planTransform(landscape, dino, 'train', [0.9999, 0.9999, 0.1]);
  assert.deepEqual([last.window.x, last.window.y, last.flip], [172, 32, true]);
  // The whole resized image (a cache's) has the same size.
  const src = { data: new Uint8Array(389 * 251 * 3), width: 389, height: 251, channels: 3 as const };
  const whole = resizeWhole(src, dino);
  assert.deepEqual([whole.width, whole.height], [396, 256]);
});

test('invalid transform settings are named', () => {
  const bad: [Partial<TransformConfig>, RegExp][] = [
    [{ crop: { width: 300, height: 224 } }, /crop 300x224 is larger than resize 256x256/],
    [{ resize: { width: 0, height: 256 } }, /resize must be whole pixels/],
    [{ flipProbability: 1.5 }, /flipProbability/],
    [{ mean: [0, 0] }, /mean and std need 3 values for RGB/],
    [{ std: [1, 0, 1] }, /std values must be finite and non-zero/],
    [{ colorOrder: 'gray' }, /need 1 values for gray/],
    [{ resizeMode: 'longer' as 'shorter' }, /resizeMode must be square or shorter, got longer/],
    [
      { resizeMode: 'shorter', resize: { width: 256, height: 300 } },
      /a shorter-side resize takes one size \(N x N\), got 256x300/,
    ],
    [{ filter: 'lanczos' as 'bicubic' }, /filter must be bilinear or bicubic, got lanczos/],
  ];
  for (const [patch, message] of bad) {
    assert.throws(() => validateTransform({ ...IMAGENET_TRANSFORM, ...patch }), message);
  }
});
