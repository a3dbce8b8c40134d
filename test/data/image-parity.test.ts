// Parity with PIL + torchvision (fixtures from tools/golden/pipeline.py): the eval transform of JPEG,
// PNG with alpha, palette PNG, grayscale, CMYK JPEG, WebP, an upsampled PNG and a larger JPEG must be
// within a mean absolute difference of 1/255 of torchvision's (before normalisation). Lossless inputs
// must match exactly: any difference there is the resampler's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { loadPixels } from '../../src/data/image/source.js';
import { applyTransform, normalisationOf, planTransform, resizeWhole } from '../../src/data/image/transform.js';
import { IMAGENET_TRANSFORM, type TransformConfig } from '../../src/data/image/transform-config.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

const DIR = join(GOLDEN_DIR, 'pipeline');
interface ImageGolden {
  mode: string;
  size: [number, number];
  channel_mean: number[];
  channel_std: number[];
  probes: { y: number; x: number; values: number[] }[];
}
const golden = JSON.parse(readFileSync(join(GOLDEN_DIR, 'pipeline.json'), 'utf8')).extra as {
  train_crop: { top: number; left: number; flip: boolean };
  images: Record<string, ImageGolden>;
};
const NAMES = Object.keys(golden.images);
const LOSSLESS = new Set(['alpha.png', 'palette.png', 'small.png']);
const NO_DRAWS = [0, 0, 0] as const;

/** Pixels in [0, 1]: mean 0, std 1. */
function unitConfig(colorOrder: 'RGB' | 'gray'): TransformConfig {
  const n = colorOrder === 'gray' ? 1 : 3;
  return { ...IMAGENET_TRANSFORM, colorOrder, mean: new Array(n).fill(0), std: new Array(n).fill(1) };
}

async function ours(name: string, config: TransformConfig): Promise<Float32Array> {
  const channels = config.colorOrder === 'gray' ? 1 : 3;
  const pixels = await loadPixels({ path: join(DIR, name), label: 0 }, undefined, channels);
  const plan = planTransform(pixels, config, 'eval', NO_DRAWS);
  const out = new Float32Array(channels * 224 * 224);
  applyTransform(pixels, plan, normalisationOf(config), out, 0);
  return out;
}

/** A golden HWC uint8 PNG as CHW values in [0, 1]. */
async function reference(file: string, gray = false): Promise<{ chw: Float32Array; channels: number }> {
  const image = sharp(join(DIR, file));
  const { data, info } = await (gray ? image.extractChannel(0) : image).raw().toBuffer({ resolveWithObject: true });
  const c = info.channels;
  const plane = info.width * info.height;
  const chw = new Float32Array(c * plane);
  for (let i = 0; i < plane; i++) for (let k = 0; k < c; k++) chw[k * plane + i] = (data[i * c + k] as number) / 255;
  return { chw, channels: c };
}

function diffStats(a: Float32Array, b: Float32Array): { mean: number; max: number } {
  assert.equal(a.length, b.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.length, max };
}

test('the golden covers every input kind', () => {
  const modes = new Set(NAMES.map((n) => golden.images[n]?.mode));
  for (const m of ['RGB', 'RGBA', 'L', 'CMYK', 'P']) assert.ok(modes.has(m), `no ${m} input`);
  assert.ok(NAMES.some((n) => n.endsWith('.webp')));
  assert.ok(
    NAMES.some((n) => (golden.images[n]?.size[0] ?? 999) < 224),
    'no upsampled input',
  );
});

for (const name of NAMES) {
  test(`eval transform of ${name} matches torchvision (RGB)`, async () => {
    const ref = await reference(`${name}.eval.png`);
    const got = await ours(name, unitConfig('RGB'));
    const { mean, max } = diffStats(got, ref.chw);
    assert.ok(mean < 1 / 255, `mean absolute difference ${mean * 255}/255`);
    if (LOSSLESS.has(name)) assert.equal(max, 0, `lossless input differs by up to ${max * 255}/255`);
  });

  test(`normalised statistics of ${name} match torchvision's ToTensor + Normalize`, async () => {
    const g = golden.images[name] as ImageGolden;
    const got = await ours(name, IMAGENET_TRANSFORM);
    const plane = 224 * 224;
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let i = 0; i < plane; i++) s += got[c * plane + i] as number;
      const tolerance = 1 / 255 / (IMAGENET_TRANSFORM.std[c] as number);
      assert.ok(Math.abs(s / plane - (g.channel_mean[c] as number)) < tolerance, `channel ${c} mean`);
    }
    if (!LOSSLESS.has(name)) return;
    for (const p of g.probes) {
      for (let c = 0; c < 3; c++) {
        const v = got[c * plane + p.y * 224 + p.x] as number;
        assert.ok(
          Math.abs(v - (p.values[c] as number)) < 1e-6,
          `(${p.y}, ${p.x}) channel ${c}: ${v} vs ${p.values[c]}`,
        );
      }
    }
  });
}

for (const name of NAMES.filter((n) => n !== 'palette.png')) {
  const file = `${name}.gray.png`;
  let exists = true;
  try {
    readFileSync(join(DIR, file));
  } catch {
    exists = false;
  }
  if (!exists) continue;
  test(`eval transform of ${name} matches torchvision on convert('L') (1 channel)`, async () => {
    const ref = await reference(file, true);
    assert.equal(ref.channels, 1);
    const got = await ours(name, unitConfig('gray'));
    const { mean, max } = diffStats(got, ref.chw);
    assert.ok(mean < 1 / 255, `mean absolute difference ${mean * 255}/255`);
    if (LOSSLESS.has(name)) assert.equal(max, 0);
  });
}

test('train crop and flip match torchvision F.crop + F.hflip at the same offsets', async () => {
  const { top, left, flip } = golden.train_crop;
  const ref = await reference('photo.train.png');
  const config = unitConfig('RGB');
  const pixels = await loadPixels({ path: join(DIR, 'photo.jpg'), label: 0 }, undefined, 3);
  const plan = { resize: { width: 256, height: 256 }, window: { x: left, y: top, width: 224, height: 224 }, flip };
  const got = new Float32Array(3 * 224 * 224);
  applyTransform(pixels, plan, normalisationOf(config), got, 0);
  assert.ok(diffStats(got, ref.chw).mean < 1 / 255);
  // Exactly the mirrored window of our own whole resize.
  const whole = resizeWhole(pixels, config);
  for (const [y, x] of [
    [0, 0],
    [100, 17],
    [223, 223],
  ] as const) {
    for (let c = 0; c < 3; c++) {
      const expected = (whole.data[((top + y) * 256 + left + 223 - x) * 3 + c] as number) / 255;
      assert.equal(got[c * 224 * 224 + y * 224 + x], Math.fround(expected));
    }
  }
});
