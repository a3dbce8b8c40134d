// The page's preprocess.js (in-browser embedding) against the server's pipeline, without a browser: for
// every architecture family's exported preprocessing (ONNX metadata: the paper's square bilinear resize, a
// ViT's shorter side with bilinear or bicubic, small gray inputs), prepareImage on RGBA pixels gives the
// query transform's float32 input bit for bit, on random images of odd sizes and aspect ratios; and on
// the golden photos its crop before normalising is the publishers' (tools/golden/pipeline_vit.py).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import type { Pixels } from '../../../src/data/image/pixels.js';
import { applyTransform, normalisationOf, planTransform } from '../../../src/data/image/transform.js';
import { type Preprocessing, preprocessingOf } from '../../../src/embed/onnx/index.js';
import { inputSpecOf } from '../../../src/embed/open-engine.js';
import { type Arch, createEmbedder } from '../../../src/nn/embedder.js';
import { queryTransform } from '../../../src/search/query-transform.js';
// @ts-expect-error: a plain browser module without types
import { prepareImage, shorterSideSize } from '../../../src/search/web/preprocess.js';
import { GOLDEN_DIR } from '../../helpers/golden.js';

type Prepared = { data: Float32Array; shape: number[] };
const prepare = prepareImage as (
  rgba: { data: Uint8Array; width: number; height: number },
  p: Preprocessing,
  resize: number,
  crop: number,
) => Prepared;

/** An architecture's exported preprocessing for bare weights (what serve hands the page). */
function preprocessingFor(arch: Arch): Preprocessing {
  const model = createEmbedder({ arch, dim: 8, uninitialisedBackbone: true });
  try {
    return preprocessingOf(model, null);
  } finally {
    model.dispose();
  }
}

const ARCHS: Arch[] = ['resnet18', 'smallcnn', 'vit_b_16', 'vit_l_16', 'dinov2_vits14', 'clip_vitb32'];
const PREPROCESSING = Object.fromEntries(ARCHS.map((a) => [a, preprocessingFor(a)])) as Record<Arch, Preprocessing>;

/** The server's query input for these RGB pixels: the transform serve builds from the model's metadata. */
function serverInput(rgb: Pixels, p: Preprocessing, resize: number, crop: number): Float32Array {
  const spec = inputSpecOf(p);
  const config = queryTransform(spec, resize, crop);
  const src: Pixels =
    spec.colorOrder === 'gray'
      ? { ...rgb, channels: 1, data: rgb.data.filter((_, i) => i % 3 === 0) } // gray-only test images
      : rgb;
  const plan = planTransform(src, config, 'eval', [0, 0, 0]);
  const out = new Float32Array(src.channels * plan.window.width * plan.window.height);
  applyTransform(src, plan, normalisationOf(config), out, 0);
  return out;
}

function rgbaOf(rgb: Pixels) {
  const n = rgb.width * rgb.height;
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) data[i * 4 + k] = rgb.data[i * 3 + k] as number;
    data[i * 4 + 3] = 255;
  }
  return { data, width: rgb.width, height: rgb.height };
}

function randomInts(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

describe('the ONNX preprocessing of each family', () => {
  test('says the resize mode and filter only where they are not the defaults', () => {
    const pick = (a: Arch) => {
      const p = PREPROCESSING[a];
      return [p.resize, p.resizeMode, p.filter, p.crop, p.mean[0]];
    };
    assert.deepEqual(pick('resnet18'), [256, undefined, undefined, 224, 0.485]);
    assert.deepEqual(pick('smallcnn'), [null, undefined, undefined, null, 0.5]);
    assert.deepEqual(pick('vit_b_16'), [256, 'shorter', undefined, 224, 0.485]);
    assert.deepEqual(pick('vit_l_16'), [242, 'shorter', undefined, 224, 0.485]);
    assert.deepEqual(pick('dinov2_vits14'), [256, 'shorter', 'bicubic', 224, 0.485]);
    assert.deepEqual(pick('clip_vitb32'), [224, 'shorter', 'bicubic', 224, 0.48145466]);
  });

  test('read back (inputSpecOf), it gives the transform the model itself asks for', () => {
    for (const arch of ARCHS) {
      const p = PREPROCESSING[arch];
      const model = createEmbedder({ arch, dim: 8, uninitialisedBackbone: true });
      const own = queryTransform(model.input, p.resize ?? 0, p.crop ?? 0);
      model.dispose();
      assert.deepEqual(queryTransform(inputSpecOf(p), p.resize ?? 0, p.crop ?? 0), own, arch);
    }
    // A run that cropped to 32 or less is still a resized model, not a small-input one (it was, on onnxruntime:
    // a trained dino_vits16 at resize 40 / crop 32 gave cosine 0.992 between the two engines).
    for (const arch of ['resnet18', 'dino_vits16'] as const) {
      const model = createEmbedder({ arch, dim: 8, uninitialisedBackbone: true });
      const p = preprocessingOf(model, { resize: 40, crop: 32 });
      const own = queryTransform(model.input, 40, 32);
      model.dispose();
      assert.deepEqual(own.resize, { width: 40, height: 40 });
      assert.deepEqual(queryTransform(inputSpecOf(p), 40, 32), own, `${arch} at 40 / 32`);
    }
  });
});

describe('preprocess.js', () => {
  test("torchvision's Resize(n) size, as the server's", () => {
    assert.deepEqual(shorterSideSize(389, 251, 256), [396, 256]);
    assert.deepEqual(shorterSideSize(251, 389, 242), [242, 375]);
    assert.deepEqual(shorterSideSize(60, 45, 224), [298, 224]);
  });

  test('equals the server pipeline bit for bit on 10 random images per family', () => {
    const rand = randomInts(20261207);
    for (const arch of ARCHS) {
      const p = PREPROCESSING[arch];
      for (let round = 0; round < 10; round++) {
        // From much smaller than the crop (enlarged) to twice the resize, any aspect ratio.
        const width = 20 + rand(500);
        const height = 20 + rand(500);
        const gray = p.colorOrder === 'gray';
        const rgb: Pixels = { data: new Uint8Array(width * height * 3), width, height, channels: 3 };
        for (let i = 0; i < width * height; i++) {
          const v = rand(256);
          for (let k = 0; k < 3; k++) rgb.data[i * 3 + k] = gray ? v : k === 0 ? v : rand(256);
        }
        // The exported resize and crop, and sometimes an index's own (a trained model's).
        const resize = round % 5 === 4 && p.resize !== null ? p.resize + 32 : (p.resize ?? 0);
        const crop = p.crop ?? 0;
        const browser = prepare(rgbaOf(rgb), p, resize, crop);
        const server = serverInput(rgb, p, resize, crop);
        const what = `${arch}: ${width}x${height}, resize ${resize}, crop ${crop}`;
        assert.equal(browser.data.length, server.length, what);
        let differ = 0;
        for (let i = 0; i < server.length; i++) if (browser.data[i] !== server[i]) differ++;
        assert.equal(differ, 0, `${what}: ${differ} of ${server.length} values differ`);
      }
    }
  });

  const FAMILIES: [string, Arch][] = [
    ['vit_b_16', 'vit_b_16'],
    ['vit_l_16', 'vit_l_16'],
    ['dinov2', 'dinov2_vits14'],
    ['clip', 'clip_vitb32'],
  ];
  for (const [family, arch] of FAMILIES) {
    test(`${family}: the crop of the golden photos is the publisher's`, async () => {
      const dir = join(GOLDEN_DIR, 'pipeline-vit');
      for (const name of ['portrait.png', 'landscape.png']) {
        const { data, info } = await sharp(join(dir, name)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
        const p = { ...PREPROCESSING[arch], mean: [0, 0, 0], std: [1, 1, 1] };
        const got = prepare({ data, width: info.width, height: info.height }, p, p.resize ?? 0, p.crop ?? 0);
        const want = await sharp(join(dir, `${name}.${family}.png`))
          .raw()
          .toBuffer();
        const plane = 224 * 224;
        let differ = 0;
        for (let i = 0; i < plane; i++)
          for (let k = 0; k < 3; k++)
            if (Math.round((got.data[k * plane + i] as number) * 255) !== want[i * 3 + k]) differ++;
        assert.equal(differ, 0, `${name}: ${differ} of ${3 * plane} values differ`);
      }
    });
  }
});
