// torchvision's VisionTransformer against Debian's torchvision (tools/golden/vit.py): a tiny model (32 px,
// patch 8, 2 layers of 4 heads, width 32) with every parameter perturbed off its init loads strictly (keys
// of torchvision >= 0.14, and through loadWeights the mlp.linear_1 / linear_2 spelling of the published
// vit_b_16-c867db91.pth), and gives PyTorch's features (class token after encoder.ln), logits and the
// the logits for batch 2 and batch 1, and its gradients.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadWeights } from '../../src/io/weights.js';
import { VisionTransformer } from '../../src/nn/index.js';
import { noGrad, scope, type Tensor, zeros } from '../../src/tensor/index.js';
import { assertClose, VIT_GOLDEN_DIR, vitGolden } from './vit-fixtures.js';

const TOL = 2e-5;
const tiny = () =>
  new VisionTransformer({
    imageSize: 32,
    patchSize: 8,
    numLayers: 2,
    numHeads: 4,
    hiddenDim: 32,
    mlpDim: 64,
    numClasses: 10,
  });

describe('torchvision VisionTransformer vs PyTorch', () => {
  const g = vitGolden('torchvision.safetensors');
  const t = (name: string) => g.t[name] as Tensor;

  test('state-dict keys in torchvision order; features and logits for batch 2 and 1', () => {
    const vit = tiny();
    const weights = g.weights();
    assert.deepEqual([...vit.stateShapes().keys()], Object.keys(weights), 'the same keys in the same order');
    vit.loadStateDict(weights);
    vit.eval();
    scope(() =>
      noGrad(() => {
        const f = assertClose(vit.features(t('input')), t('features'), TOL, 'features');
        assert.ok(f.cosine > 0.99999, `cosine ${f.cosine}`);
        assertClose(vit.features(t('input1')), t('features1'), TOL, 'features, batch 1');
        assertClose(vit.forward(t('input')), t('logits'), TOL, 'logits');
      }),
    );
    vit.dispose();
  });

  test('gradients of pos_embedding, conv_proj and an in_proj_weight', () => {
    const vit = tiny();
    vit.loadStateDict(g.weights());
    vit.eval();
    scope(() => {
      vit.features(t('input')).mul(t('gout')).sum().backward();
      const params = Object.fromEntries(vit.namedParameters());
      for (const name of [
        'encoder.pos_embedding',
        'conv_proj.weight',
        'encoder.layers.encoder_layer_0.self_attention.in_proj_weight',
      ]) {
        assertClose((params[name] as Tensor).grad as Tensor, t(`grad.${name}`), 5e-5, `grad ${name}`);
      }
    });
    vit.dispose();
  });

  test('the published spelling (mlp.linear_1 / linear_2) from a .pth loads through adaptWeights', () => {
    const vit = tiny();
    const legacy = loadWeights(join(VIT_GOLDEN_DIR, 'torchvision_legacy.pth'));
    assert.ok('encoder.layers.encoder_layer_1.mlp.linear_2.bias' in legacy);
    scope(() => vit.loadStateDict(vit.adaptWeights(legacy)));
    vit.eval();
    scope(() => noGrad(() => assertClose(vit.features(t('input')), t('features'), TOL, 'features')));
    vit.dispose();
    for (const v of Object.values(legacy)) v.dispose();
  });

  test('refuses an image of another size, naming the one it takes', () => {
    const vit = tiny();
    assert.throws(
      () => vit.features(zeros([1, 3, 40, 40])),
      /takes 32 x 32 images \(position embeddings for 4 x 4 patches\), got 40 x 40/,
    );
    vit.dispose();
  });
});
