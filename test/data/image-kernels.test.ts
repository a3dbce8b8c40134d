// Hand-computed cases for the pixel kernels: Pillow's bilinear resize, colour conversions, CHW writing.
// Expected values were worked out from Pillow's formulas and agree with Pillow 9.4.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPipelinePixels } from '../../src/data/image/colour.js';
import { type ChwNormalisation, resizeBilinear, writeChw } from '../../src/data/image/kernels.js';
import type { Pixels } from '../../src/data/image/pixels.js';

function gray(width: number, height: number, values: number[]): Pixels {
  return { data: Uint8Array.from(values), width, height, channels: 1 };
}

test('downscaling averages with a triangle as wide as the scale factor (Pillow antialiasing)', () => {
  // 4 -> 2: scale 2, support 2. Output 0: centre 1, taps 0..2 with weights 3/7, 3/7, 1/7 -> 50.
  // Output 1: centre 3, taps 1..3 with weights 1/7, 3/7, 3/7 -> 10 + 60 + 90 = 160.
  const out = resizeBilinear(gray(4, 1, [0, 70, 140, 210]), 2, 1);
  assert.deepEqual([...out.data], [50, 160]);
});

test('upscaling interpolates between neighbours (Pillow BILINEAR, 2x2 -> 4x3)', () => {
  const out = resizeBilinear(gray(2, 2, [0, 100, 200, 50]), 4, 3);
  assert.deepEqual([...out.data], [0, 25, 75, 100, 100, 94, 82, 75, 200, 163, 88, 50]);
});

test('a window of the resized image equals the same rectangle of the whole resize', () => {
  const src: Pixels = { data: new Uint8Array(37 * 23 * 3), width: 37, height: 23, channels: 3 };
  for (let i = 0; i < src.data.length; i++) src.data[i] = (i * 7919) % 251;
  const whole = resizeBilinear(src, 16, 12);
  const part = resizeBilinear(src, 16, 12, { x: 3, y: 5, width: 9, height: 6 });
  for (let y = 0; y < 6; y++) {
    for (let x = 0; x < 9 * 3; x++) {
      assert.equal(part.data[y * 27 + x], whole.data[(y + 5) * 48 + 9 + x], `row ${y} byte ${x}`);
    }
  }
});

test('same size is the identity', () => {
  const src = gray(3, 2, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...resizeBilinear(src, 3, 2).data], [1, 2, 3, 4, 5, 6]);
});

test('CMYK converts with Pillow naive formula; alpha is dropped; L is ITU-R 601-2 luma', () => {
  const cmyk = toPipelinePixels(
    {
      data: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 128, 10, 250, 64]),
      width: 4,
      height: 1,
      channels: 4,
      cmyk: true,
    },
    3,
  );
  assert.deepEqual([...cmyk.data], [255, 255, 255, 0, 0, 0, 0, 255, 255, 95, 184, 4]);
  const rgba = toPipelinePixels(
    { data: Uint8Array.from([1, 2, 3, 0, 4, 5, 6, 255]), width: 2, height: 1, channels: 4, cmyk: false },
    3,
  );
  assert.deepEqual([...rgba.data], [1, 2, 3, 4, 5, 6]);
  const luma = toPipelinePixels(
    {
      data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 30]),
      width: 4,
      height: 1,
      channels: 3,
      cmyk: false,
    },
    1,
  );
  assert.deepEqual([...luma.data], [76, 150, 29, 124]);
  const grayAlpha = toPipelinePixels(
    { data: Uint8Array.from([9, 0, 8, 255]), width: 2, height: 1, channels: 2, cmyk: false },
    3,
  );
  assert.equal(grayAlpha.channels, 1, 'gray stays one channel and is replicated when normalised');
  assert.deepEqual([...grayAlpha.data], [9, 8]);
});

test('writeChw crops, mirrors, reorders to BGR and normalises in float32', () => {
  // 3x2 RGB image; pixel (row r, col c) = [10r + c, 100 + c, 200 + r].
  const data = new Uint8Array(3 * 2 * 3);
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) data.set([10 * r + c, 100 + c, 200 + r], (r * 3 + c) * 3);
  const src: Pixels = { data, width: 3, height: 2, channels: 3 };
  const out = new Float32Array(1 + 3 * 2 * 2);
  const norm = {
    colorOrder: 'BGR' as const,
    range: 255 as const,
    mean: Float64Array.of(1, 2, 3),
    std: Float64Array.of(1, 2, 4),
  };
  writeChw(src, { x: 1, y: 0, width: 2, height: 2 }, true, norm, out, 1);
  // Columns 1..2 mirrored -> 2, 1. Channel 0 = B = 200 + r, 1 = G = 100 + c, 2 = R = 10r + c.
  const expected = [0, 199, 199, 200, 200, 50, 49.5, 50, 49.5, -0.25, -0.5, 2.25, 2];
  assert.deepEqual([...out], expected);

  const unit = new Float32Array(2);
  const grayNorm = {
    colorOrder: 'gray' as const,
    range: 1 as const,
    mean: Float64Array.of(0.5),
    std: Float64Array.of(0.5),
  };
  writeChw(gray(2, 1, [0, 51]), { x: 0, y: 0, width: 2, height: 1 }, false, grayNorm, unit, 0);
  assert.deepEqual([...unit], [-1, Math.fround((Math.fround(51 / 255) - 0.5) / 0.5)]);
});

test('kernels reject windows outside the image and too-short buffers', () => {
  assert.throws(
    () => resizeBilinear(gray(2, 2, [1, 2, 3, 4]), 4, 4, { x: 2, y: 0, width: 3, height: 1 }),
    /out of range/,
  );
  assert.throws(
    () => resizeBilinear({ data: new Uint8Array(3), width: 2, height: 2, channels: 1 }, 1, 1),
    /holds 3 bytes/,
  );
});

test('bad kernel arguments are clear JS errors, checked before the native code runs', () => {
  const src = gray(3, 2, [1, 2, 3, 4, 5, 6]);
  // Resize: buffer length, channel count, sizes and the window are checked.
  assert.throws(
    () => resizeBilinear({ ...src, data: new Uint8Array(5) }, 2, 2),
    /src.data holds 5 bytes, a 3x2x1 image needs 6/,
  );
  assert.throws(() => resizeBilinear({ ...src, channels: 2 as 1 }, 2, 2), /src.channels must be 1 or 3, got 2/);
  assert.throws(
    () => resizeBilinear({ ...src, width: 2.5 }, 2, 2),
    /src.width must be an integer in \[1, 65536\], got 2.5/,
  );
  assert.throws(() => resizeBilinear(src, Number.NaN, 2), /outWidth must be an integer in \[1, 65536\], got NaN/);
  assert.throws(
    () => resizeBilinear(src, 2, 2, { x: 1, y: 0, width: 2, height: 1 }),
    /imageResizeBilinear\(\): window.width = 2 is out of range \[1, 1\]/,
  );
  assert.throws(
    () => resizeBilinear({ ...src, data: Array.from(src.data) as unknown as Uint8Array }, 2, 2),
    /src.data must be a Uint8Array, got an array/,
  );

  // CHW: the rectangle, the normalisation arrays and the room in `out` are checked.
  const norm: ChwNormalisation = { colorOrder: 'gray', range: 1, mean: Float64Array.of(0), std: Float64Array.of(1) };
  const out = new Float32Array(6);
  writeChw(src, { x: 0, y: 0, width: 3, height: 2 }, false, norm, out, 0);
  assert.deepEqual(
    [...out],
    [1, 2, 3, 4, 5, 6].map((v) => Math.fround(v / 255)),
  );
  assert.throws(
    () => writeChw(src, { x: 1, y: 0, width: 3, height: 2 }, false, norm, out, 0),
    /imageToChw\(\): rect.width = 3 is out of range \[1, 2\]/,
  );
  assert.throws(
    () => writeChw(src, { x: 0, y: -1, width: 1, height: 1 }, false, norm, out, 0),
    /rect.y = -1 is out of range \[0, 1\]/,
  );
  assert.throws(
    () => writeChw(src, { x: 0, y: 0, width: 3, height: 2 }, false, norm, out, 1),
    /offset = 1 is out of range \[0, 0\]/,
  );
  assert.throws(
    () => writeChw(src, { x: 0, y: 0, width: 1, height: 1 }, false, norm, out, 0.5),
    /offset must be an integer/,
  );
  assert.throws(
    () => writeChw(src, { x: 0, y: 0, width: 3, height: 2 }, false, norm, new Float32Array(5), 0),
    /out holds 5 floats, the image needs 6/,
  );
  assert.throws(
    () =>
      writeChw(
        src,
        { x: 0, y: 0, width: 3, height: 2 },
        false,
        norm,
        new Float64Array(6) as unknown as Float32Array,
        0,
      ),
    /out must be a Float32Array, got a Float64Array/,
  );
  const f32 = { ...norm, mean: Float32Array.of(0) as unknown as Float64Array };
  assert.throws(
    () => writeChw(src, { x: 0, y: 0, width: 1, height: 1 }, false, f32, out, 0),
    /mean must be a Float64Array, got a Float32Array/,
  );
  const rgbStats = { ...norm, mean: Float64Array.of(0, 0, 0) };
  assert.throws(
    () => writeChw(src, { x: 0, y: 0, width: 1, height: 1 }, false, rgbStats, out, 0),
    /mean needs one value per output channel \(1\), got 3/,
  );
  const zeroStd = { ...norm, std: Float64Array.of(0) };
  assert.throws(
    () => writeChw(src, { x: 0, y: 0, width: 1, height: 1 }, false, zeroStd, out, 0),
    /std values must be finite and non-zero, got 0/,
  );
  const rgb: Pixels = { data: new Uint8Array(6), width: 2, height: 1, channels: 3 };
  assert.throws(
    () => writeChw(rgb, { x: 0, y: 0, width: 1, height: 1 }, false, norm, out, 0),
    /cannot write 1 channel from an RGB source/,
  );
});
