// Every ViT architecture's backbone has its publisher's state-dict keys and shapes, in order
// (tools/golden/vit.py real_keys.json: torchvision's vit_b_16 / vit_l_16, DINO's hub models, DINOv2's hub
// models with and without registers, CLIP's ViT-B/32 and ViT-B/16), less the classification head
// (torchvision's heads.*) and, for CLIP, the text tower (the image tower is visual.*). The backbones are
// built without drawing their weights, so no memory is touched.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createBackbone, createEmbedder, VIT_ARCHS } from '../../src/nn/index.js';
import { VIT_GOLDEN_DIR } from './vit-fixtures.js';

const real = JSON.parse(readFileSync(join(VIT_GOLDEN_DIR, 'real_keys.json'), 'utf8')) as Record<
  string,
  [string, number[]][]
>;

/** The publisher's keys a bare backbone holds. */
function backboneKeys(arch: string): [string, number[]][] {
  const all = real[arch] ?? [];
  if (arch.startsWith('clip_')) {
    return all.filter(([k]) => k.startsWith('visual.')).map(([k, s]) => [k.slice('visual.'.length), s]);
  }
  return all.filter(([k]) => !k.startsWith('heads.'));
}

describe('ViT architectures: the publishers key layouts', () => {
  test('the fixture covers every architecture', () => {
    assert.deepEqual(Object.keys(real).sort(), [...VIT_ARCHS].sort());
  });

  for (const arch of VIT_ARCHS) {
    test(`${arch}: keys and shapes, in order`, () => {
      const backbone = createBackbone(arch, { uninitialised: true });
      try {
        const ours = [...backbone.stateShapes()].map(([k, s]) => [k, [...s]]);
        assert.deepEqual(ours, backboneKeys(arch));
      } finally {
        backbone.dispose();
      }
    });
  }

  test('parameter counts: torchvision vit_b_16 86,567,656 and vit_l_16 304,326,632 with their 1000-class heads', () => {
    for (const [arch, published] of [
      ['vit_b_16', 86_567_656],
      ['vit_l_16', 304_326_632],
    ] as const) {
      const b = createBackbone(arch, { uninitialised: true });
      const head = b.width * 1000 + 1000;
      assert.equal(b.numParameters() + head, published, arch);
      b.dispose();
    }
  });

  test('embedding widths: the class token (768, 1024, 384) and CLIP after proj (512)', () => {
    const widths: Record<string, number> = { vit_b_16: 768, vit_l_16: 1024, dinov2_vits14_reg: 384, clip_vitb32: 512 };
    for (const [arch, width] of Object.entries(widths)) {
      const e = createEmbedder({ arch: arch as (typeof VIT_ARCHS)[number], uninitialisedBackbone: true });
      assert.equal(e.width, width, arch);
      assert.equal(e.dim, width);
      assert.equal(e.remap, null);
      e.dispose();
    }
  });
});
