// The native resize (vectorised where the CPU has AVX2: two RGB pixels per step, 16 columns per step,
// zero-padded taps) against Pillow's Resample.c restated plainly in JS, on random images whose sizes,
// scale factors and windows reach the kernels' edges: odd widths, the image's last row, windows at the
// right edge, rows shorter than a vector, upscaling, 1 and 3 channels; for the BILINEAR and BICUBIC
// filters (the cubic's negative lobes make sums below 0 and above 255, which clip).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resizeBilinear, resizePixels } from '../../src/data/image/kernels.js';
import type { Pixels, Rect } from '../../src/data/image/pixels.js';

type Filter = 'bilinear' | 'bicubic';
const FILTERS: Record<Filter, { support: number; f: (x: number) => number }> = {
  bilinear: { support: 1, f: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

const PRECISION = 22;

function coefficients(inSize: number, outSize: number, filter: Filter) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = FILTERS[filter].support * filterScale;
  const ss = 1 / filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds: [number, number][] = [];
  const weights: number[][] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) truncates toward zero; the arguments here are > -1, so trunc is Pillow's cast.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5));
    const row: number[] = [];
    let total = 0;
    for (let x = 0; x < xmax - xmin; x++) {
      const w = FILTERS[filter].f((x + xmin - center + 0.5) * ss);
      row.push(w);
      total += w;
    }
    weights.push(
      row.map((w) => {
        const k = total !== 0 ? w / total : w;
        return Math.trunc(k < 0 ? -0.5 + k * 2 ** PRECISION : 0.5 + k * 2 ** PRECISION);
      }),
    );
    bounds.push([xmin, xmax - xmin]);
    assert.ok(xmax - xmin <= ksize);
  }
  return { bounds, weights };
}

function clip8(v: number): number {
  if (v >= 255 * 2 ** PRECISION) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / 2 ** PRECISION);
}

/** Pillow: horizontal pass over every row, rounded to uint8, then the vertical pass; then the window. */
function pillowResize(src: Pixels, outW: number, outH: number, r: Rect, filter: Filter = 'bilinear'): number[] {
  const ch = src.channels;
  let mid = src.data as ArrayLike<number>;
  let midW = src.width;
  if (outW !== src.width) {
    const c = coefficients(src.width, outW, filter);
    const out = new Array<number>(outW * src.height * ch);
    for (let y = 0; y < src.height; y++)
      for (let xx = 0; xx < outW; xx++)
        for (let k = 0; k < ch; k++) {
          const [xmin, count] = c.bounds[xx] as [number, number];
          let s = 2 ** (PRECISION - 1);
          for (let t = 0; t < count; t++)
            s += (src.data[(y * src.width + xmin + t) * ch + k] as number) * (c.weights[xx]?.[t] as number);
          out[(y * outW + xx) * ch + k] = clip8(s);
        }
    mid = out;
    midW = outW;
  }
  let full = mid;
  if (outH !== src.height) {
    const c = coefficients(src.height, outH, filter);
    const out = new Array<number>(midW * outH * ch);
    for (let yy = 0; yy < outH; yy++)
      for (let i = 0; i < midW * ch; i++) {
        const [ymin, count] = c.bounds[yy] as [number, number];
        let s = 2 ** (PRECISION - 1);
        for (let t = 0; t < count; t++)
          s += (mid[(ymin + t) * midW * ch + i] as number) * (c.weights[yy]?.[t] as number);
        out[yy * midW * ch + i] = clip8(s);
      }
    full = out;
  }
  const picked: number[] = [];
  for (let y = r.y; y < r.y + r.height; y++)
    for (let i = r.x * ch; i < (r.x + r.width) * ch; i++) picked.push(full[y * outW * ch + i] as number);
  return picked;
}

function randomInts(seed: number) {
  let state = seed >>> 0 || 1;
  return (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

for (const filter of ['bilinear', 'bicubic'] as const) {
  test(`the native ${filter} resize equals Pillow restated, on 120 random sizes, factors and windows`, () => {
    const rand = randomInts(filter === 'bilinear' ? 20261130 : 20261207);
    for (let round = 0; round < 120; round++) {
      const channels = rand(4) === 0 ? 1 : 3;
      const width = 1 + rand(90);
      const height = 1 + rand(40);
      // Mostly downscaling (1x to 9x: 3 to 19 taps), sometimes upscaling.
      const outW = Math.max(1, rand(5) === 0 ? width + rand(30) : Math.round(width / (1 + rand(8) + rand(100) / 100)));
      const outH = Math.max(
        1,
        rand(5) === 0 ? height + rand(20) : Math.round(height / (1 + rand(8) + rand(100) / 100)),
      );
      const w = 1 + rand(outW);
      const h = 1 + rand(outH);
      // Every third window touches the right and bottom edges.
      const x = round % 3 === 0 ? outW - w : rand(outW - w + 1);
      const y = round % 3 === 0 ? outH - h : rand(outH - h + 1);
      const src: Pixels = { data: new Uint8Array(width * height * channels), width, height, channels };
      for (let i = 0; i < src.data.length; i++) src.data[i] = rand(256);
      const window = { x, y, width: w, height: h };
      const ours = resizePixels(src, outW, outH, filter, window);
      const what = `${width}x${height}x${channels} -> ${outW}x${outH}, window ${x},${y} ${w}x${h}`;
      assert.deepEqual([...ours.data], pillowResize(src, outW, outH, window, filter), what);
    }
  });
}

test('a photo-sized downscale (500x375 -> 256x256, 224 window) equals Pillow restated', () => {
  const rand = randomInts(7);
  const src: Pixels = { data: new Uint8Array(500 * 375 * 3), width: 500, height: 375, channels: 3 };
  for (let i = 0; i < src.data.length; i++) src.data[i] = (i % 1500 < 750 ? 40 : 200) + rand(50);
  for (const window of [
    { x: 16, y: 16, width: 224, height: 224 },
    { x: 32, y: 32, width: 224, height: 224 },
    { x: 0, y: 0, width: 256, height: 256 },
  ]) {
    assert.deepEqual([...resizeBilinear(src, 256, 256, window).data], pillowResize(src, 256, 256, window));
  }
});
