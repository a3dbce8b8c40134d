// DINO's and DINOv2's ViT against their publishers' code (facebookresearch/dino vision_transformer.py,
// facebookresearch/dinov2 DinoVisionTransformer; tools/golden/vit.py): tiny models with every parameter
// perturbed off its init load strictly (same keys, same order) and give the reference's class token after
// the final norm, at the size the position embeddings were made for and at other sizes, where they are
// interpolated as the reference does (DINO, DINOv2: bicubic by scale factor with the 0.1 offset; DINOv2
// with registers: by size, antialiased), and its gradients through that interpolation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DinoVisionTransformer, type DinoVisionTransformerOptions } from '../../src/nn/index.js';
import { noGrad, scope, type Tensor } from '../../src/tensor/index.js';
import { assertClose, vitGolden } from './vit-fixtures.js';

const TOL = 2e-5;

function check(file: string, options: DinoVisionTransformerOptions, cases: [string, string][], grads: string[]): void {
  const g = vitGolden(file);
  const t = (name: string) => g.t[name] as Tensor;
  const vit = new DinoVisionTransformer(options);
  try {
    const weights = g.weights();
    assert.deepEqual([...vit.stateShapes().keys()], Object.keys(weights), 'the same keys in the same order');
    vit.loadStateDict(weights);
    vit.eval();
    scope(() =>
      noGrad(() => {
        for (const [input, want] of cases) {
          const d = assertClose(vit.features(t(input)), t(want), TOL, `${file} ${want}`);
          assert.ok(d.cosine > 0.99999, `${want}: cosine ${d.cosine}`);
        }
      }),
    );
    if (grads.length > 0) {
      scope(() => {
        vit.features(t('input_interp')).mul(t('gout')).sum().backward();
        const params = Object.fromEntries(vit.namedParameters());
        for (const name of grads) {
          assertClose((params[name] as Tensor).grad as Tensor, t(`grad.${name}`), 5e-5, `${file} grad ${name}`);
        }
      });
    }
  } finally {
    vit.dispose();
  }
}

describe('DINO and DINOv2 vs their reference code', () => {
  test('DINO: 32 x 32 (batch 2) and 48 x 40 (interpolated, batch 1)', () => {
    check(
      'dino.safetensors',
      {
        imgSize: 32,
        patchSize: 8,
        embedDim: 32,
        depth: 2,
        numHeads: 4,
        interpolation: { offset: 0.1, antialias: false },
      },
      [
        ['input', 'features'],
        ['input_interp', 'features_interp'],
      ],
      [],
    );
  });

  const v2: DinoVisionTransformerOptions = {
    imgSize: 56,
    patchSize: 14,
    embedDim: 32,
    depth: 2,
    numHeads: 4,
    layerScale: 1.0,
    maskToken: true,
    interpolation: { offset: 0.1, antialias: false },
  };

  test('DINOv2 (the hub settings): 56 x 56, 42 x 70 and 28 x 28, gradients through the interpolation', () => {
    check(
      'dinov2.safetensors',
      v2,
      [
        ['input', 'features'],
        ['input_interp', 'features_interp'],
        ['input_small', 'features_small'],
      ],
      ['pos_embed', 'cls_token', 'blocks.1.ls2.gamma', 'patch_embed.proj.weight'],
    );
  });

  test('DINOv2 with 4 registers (offset 0, antialiased): the same, and the patch tokens as a feature map', () => {
    const options = { ...v2, registers: 4, interpolation: { offset: 0, antialias: true } };
    check(
      'dinov2_reg.safetensors',
      options,
      [
        ['input', 'features'],
        ['input_interp', 'features_interp'],
        ['input_small', 'features_small'],
      ],
      ['pos_embed', 'cls_token', 'blocks.1.ls2.gamma', 'patch_embed.proj.weight', 'register_tokens'],
    );
    const g = vitGolden('dinov2_reg.safetensors');
    const vit = new DinoVisionTransformer(options);
    vit.loadStateDict(g.weights());
    vit.eval();
    scope(() =>
      noGrad(() => {
        // x_norm_patchtokens [2, 16, 32] is our map [2, 32, 4, 4] read row by row.
        const map = vit.featureMap(g.t.input as Tensor);
        assert.deepEqual(map.shape, [2, 32, 4, 4]);
        assertClose(map.flatten(2).transpose(1, 2), g.t.patch_tokens as Tensor, TOL, 'patch tokens');
      }),
    );
    vit.dispose();
  });
});
