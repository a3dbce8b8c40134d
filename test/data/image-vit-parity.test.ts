// The ViTs' preprocessing against the publishers' (tools/golden/pipeline_vit.py, Pillow 9.4 and
// torchvision 0.14): Pillow's Image.resize(BICUBIC) bit for bit on random images (shrinking up to 20x,
// enlarging, one side kept, RGB and L), and each family's eval transform up to its centre crop, bit for bit
// on lossless inputs whose shorter side is the height, the width or both, and an enlarged small image:
// torchvision's ViT_B_16 / ViT_L_16 transforms (shorter side to 256 / 242, bilinear), DINOv2's (and DINO's)
// eval transform (256, bicubic) and CLIP's (224, bicubic); then each family's mean and std (probes of the
// normalised tensor).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { resizePixels } from '../../src/data/image/kernels.js';
import type { Pixels } from '../../src/data/image/pixels.js';
import { loadPixels } from '../../src/data/image/source.js';
import { applyTransform, normalisationOf, planTransform, shorterSideSize } from '../../src/data/image/transform.js';
import { pipelineTransform, type TransformConfig } from '../../src/data/image/transform-config.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { type Arch, archInput } from '../../src/nn/index.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

const DIR = join(GOLDEN_DIR, 'pipeline-vit');
const golden = JSON.parse(readFileSync(join(GOLDEN_DIR, 'pipeline-vit.json'), 'utf8')).extra as Record<
  string,
  { channel_mean: number[]; probes: { y: number; x: number; values: number[] }[] }
>;
const FAMILIES: Record<string, Arch> = {
  vit_b_16: 'vit_b_16',
  vit_l_16: 'vit_l_16',
  dinov2: 'dinov2_vits14',
  clip: 'clip_vitb32',
};
const IMAGES: Record<string, string> = {
  'portrait.png': join(DIR, 'portrait.png'),
  'landscape.png': join(DIR, 'landscape.png'),
  'square.png': join(DIR, 'square.png'),
  'small.png': join(GOLDEN_DIR, 'pipeline', 'small.png'),
};

/** The eval transform index build, serve and embed use for bare weights of this architecture. */
function evalConfig(arch: Arch): TransformConfig {
  const spec = archInput(arch);
  return { ...pipelineTransform(spec, spec.resize ?? 0, spec.size), flipProbability: 0 };
}

async function transformed(path: string, config: TransformConfig): Promise<Float32Array> {
  const pixels = await loadPixels({ path, label: 0 }, undefined, 3);
  const plan = planTransform(pixels, config, 'eval', [0, 0, 0]);
  const out = new Float32Array(3 * plan.window.width * plan.window.height);
  applyTransform(pixels, plan, normalisationOf(config), out, 0);
  return out;
}

describe("Pillow's BICUBIC", () => {
  const t = loadSafetensors(join(DIR, 'bicubic.safetensors')).tensors;
  const cases = Object.keys(t).filter((k) => k.startsWith('in.')).length;
  test(`${cases} random images resized bit for bit, and windows of them`, () => {
    assert.ok(cases >= 7);
    for (let i = 0; i < cases; i++) {
      const input = t[`in.${i}`];
      const want = t[`out.${i}`];
      assert.ok(input && want);
      const [h, w, c] = input.rank === 3 ? input.shape : [...input.shape, 1];
      const [oh, ow] = want.shape as [number, number];
      const src: Pixels = { data: input.toBytes(), width: w as number, height: h as number, channels: c as 1 | 3 };
      const all = want.toBytes();
      const got = resizePixels(src, ow, oh, 'bicubic');
      assert.deepEqual(got.data, all, `case ${i}: ${w}x${h}x${c} -> ${ow}x${oh}`);
      // A window (what the crop computes) is the same pixels.
      const x = Math.floor(ow / 3);
      const y = Math.floor(oh / 4);
      const part = resizePixels(src, ow, oh, 'bicubic', { x, y, width: ow - x, height: oh - y });
      const ch = c as number;
      for (let r = 0; r < oh - y; r++) {
        const row = all.subarray(((y + r) * ow + x) * ch, (y + r + 1) * ow * ch);
        assert.deepEqual(
          part.data.subarray(r * (ow - x) * ch, (r + 1) * (ow - x) * ch),
          row,
          `case ${i} window row ${r}`,
        );
      }
    }
  });
});

describe("each family's eval transform", () => {
  test("torchvision's Resize(n) size: the shorter side to n, the longer to int(n * long / short)", () => {
    assert.deepEqual(shorterSideSize({ width: 389, height: 251 }, 256), { width: 396, height: 256 });
    assert.deepEqual(shorterSideSize({ width: 251, height: 389 }, 242), { width: 242, height: 375 });
    assert.deepEqual(shorterSideSize({ width: 230, height: 230 }, 224), { width: 224, height: 224 });
    assert.deepEqual(shorterSideSize({ width: 60, height: 45 }, 256), { width: 341, height: 256 });
  });

  for (const [family, arch] of Object.entries(FAMILIES)) {
    for (const [name, path] of Object.entries(IMAGES)) {
      test(`${family} on ${name}: the crop bit for bit, then the normalised probes`, async () => {
        const config = evalConfig(arch);
        const unit: TransformConfig = { ...config, mean: [0, 0, 0], std: [1, 1, 1] };
        const got = await transformed(path, unit);
        const { data, info } = await sharp(join(DIR, `${name}.${family}.png`))
          .raw()
          .toBuffer({ resolveWithObject: true });
        assert.equal(info.width * info.height, 224 * 224);
        const plane = 224 * 224;
        let differ = 0;
        for (let i = 0; i < plane; i++) {
          for (let k = 0; k < 3; k++)
            if (Math.round((got[k * plane + i] as number) * 255) !== data[i * 3 + k]) differ++;
        }
        assert.equal(differ, 0, `${differ} of ${3 * plane} values differ from the publisher's crop`);
        const norm = await transformed(path, config);
        for (const p of golden[`${name}.${family}`]?.probes ?? []) {
          for (let k = 0; k < 3; k++) {
            const v = norm[k * plane + p.y * 224 + p.x] as number;
            assert.ok(
              Math.abs(v - (p.values[k] as number)) < 1e-6,
              `(${p.y}, ${p.x}) channel ${k}: ${v} vs ${p.values[k]}`,
            );
          }
        }
      });
    }
  }
});
