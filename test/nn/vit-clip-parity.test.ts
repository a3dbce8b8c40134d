// CLIP's image tower against openai/CLIP's model.py (tools/golden/vit.py): a tiny VisionTransformer (32 px,
// patch 8, width 32, 4 heads, output 24) with every parameter perturbed off its init loads strictly and
// gives CLIP's image embedding (ln_post(class token) @ proj) for batch 2 and 1; a whole CLIP state dict
// (visual.* beside the text tower) loads through adaptWeights; and a whole CLIP as OpenAI ships it (traced,
// torch.jit.save, float16 weights: clip_tiny.pt) is read by the torch.save reader without running its code
// and gives the reference's image embedding.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadWeights } from '../../src/io/weights.js';
import { ClipVisionTransformer } from '../../src/nn/index.js';
import { noGrad, scope, type Tensor, zeros } from '../../src/tensor/index.js';
import { assertClose, VIT_GOLDEN_DIR, vitGolden } from './vit-fixtures.js';

const TOL = 2e-5;
const tiny = () =>
  new ClipVisionTransformer({ inputResolution: 32, patchSize: 8, width: 32, layers: 2, heads: 4, outputDim: 24 });

describe('CLIP image tower vs openai/CLIP', () => {
  const g = vitGolden('clip.safetensors');
  const t = (name: string) => g.t[name] as Tensor;

  test('keys in CLIP order; the image embedding for batch 2 and 1', () => {
    const vit = tiny();
    const weights = g.weights();
    assert.deepEqual([...vit.stateShapes().keys()], Object.keys(weights), 'the same keys in the same order');
    vit.loadStateDict(weights);
    vit.eval();
    scope(() =>
      noGrad(() => {
        const d = assertClose(vit.features(t('input')), t('features'), TOL, 'features');
        assert.ok(d.cosine > 0.99999);
        assertClose(vit.features(t('input1')), t('features1'), TOL, 'features, batch 1');
      }),
    );
    vit.dispose();
  });

  test('a whole CLIP state dict: visual.* loads, the text tower is dropped', () => {
    const vit = tiny();
    const whole: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(g.weights())) whole[`visual.${k}`] = v;
    whole.positional_embedding = zeros([8, 32]); // the text tower's, same name without the prefix
    whole.text_projection = zeros([32, 24]);
    whole.logit_scale = zeros([]);
    const adapted = vit.adaptWeights(whole);
    assert.equal(
      'positional_embedding' in adapted && adapted.positional_embedding === whole['visual.positional_embedding'],
      true,
    );
    assert.equal('text_projection' in adapted, false);
    vit.loadStateDict(adapted);
    scope(() => noGrad(() => assertClose(vit.eval().features(t('input')), t('features'), TOL, 'features')));
    vit.dispose();
  });

  test("OpenAI's TorchScript .pt (a whole traced CLIP, float16): its visual.* weights give CLIP's embedding", () => {
    const weights = loadWeights(join(VIT_GOLDEN_DIR, 'clip_tiny.pt'));
    // CLIP(embed_dim 24, image_resolution 32, vision_layers 2, vision_width 64, patch 16): 64 / 64 heads.
    const vit = new ClipVisionTransformer({
      inputResolution: 32,
      patchSize: 16,
      width: 64,
      layers: 2,
      heads: 1,
      outputDim: 24,
    });
    try {
      // torch.jit.load(...).state_dict() has 50 entries; the text tower's 'positional_embedding' among them.
      assert.equal(Object.keys(weights).length, 50);
      assert.equal(weights['visual.proj']?.dtype, 'float16');
      assert.deepEqual(weights.positional_embedding?.shape, [8, 32]);
      vit.loadStateDict(vit.adaptWeights(weights));
      vit.eval();
      scope(() =>
        noGrad(() => {
          const d = assertClose(vit.features(t('input')), t('jit.features'), TOL, 'features of the .pt weights');
          assert.ok(d.cosine > 0.99999);
        }),
      );
    } finally {
      vit.dispose();
      for (const w of Object.values(weights)) w.dispose();
    }
  });

  test('refuses an image of another size', () => {
    const vit = tiny();
    assert.throws(() => vit.features(zeros([1, 3, 64, 64])), /takes 32 x 32 images/);
    vit.dispose();
  });
});
