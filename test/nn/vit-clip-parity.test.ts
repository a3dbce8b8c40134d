// CLIP's image tower against openai/CLIP's model.py (tools/golden/vit.py): a tiny VisionTransformer (32 px,
// patch 8, width 32, 4 heads, output 24) with every parameter perturbed off its init loads strictly and
// gives CLIP's image embedding (ln_post(class token) @ proj) for batch 2 and 1; a whole CLIP state dict
// (visual.* beside the text tower) loads through adaptWeights.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClipVisionTransformer } from '../../src/nn/index.js';
import { noGrad, scope, type Tensor, zeros } from '../../src/tensor/index.js';
import { assertClose, vitGolden } from './vit-fixtures.js';

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

  test('refuses an image of another size', () => {
    const vit = tiny();
    assert.throws(() => vit.features(zeros([1, 3, 64, 64])), /takes 32 x 32 images/);
    vit.dispose();
  });
});
