// The LayerNorm head can be dropped for the paper's ablation (config layerNorm: false): the embedding is then
// the L2-normalised (remapped) backbone feature; the state dict is the same either way (no parameters).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEmbedder } from '../../src/nn/index.js';
import { F, scope, type Tensor } from '../../src/tensor/index.js';
import { maxAbsDiff } from '../helpers/golden.js';
import { goldenSafetensors } from './fixtures.js';

test('without the LayerNorm head the embedding is normalize(remap(features)), with it it differs', () => {
  const golden = goldenSafetensors('nn_smallcnn.safetensors');
  const backbone: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(golden)) if (k.startsWith('backbone.')) backbone[k] = v;
  const remap = golden['remap.weight'] as Tensor;
  const input = golden.input as Tensor;
  const features = golden.eval_features as Tensor;
  const plain = createEmbedder({ arch: 'smallcnn', dim: 64, layerNorm: false });
  const headed = createEmbedder({ arch: 'smallcnn', dim: 64 });
  assert.equal(plain.layerNorm, false);
  assert.equal(headed.layerNorm, true);
  assert.deepEqual(Object.keys(plain.stateDict()), Object.keys(headed.stateDict()));
  for (const e of [plain, headed]) {
    e.loadStateDict({ ...backbone, 'remap.weight': remap });
    e.eval();
  }
  scope(() => {
    const expected = F.normalize(features.matmul(remap.T), { p: 2, dim: 1 });
    assert.ok(maxAbsDiff(plain.forward(input), expected) < 1e-5);
    assert.ok(maxAbsDiff(headed.forward(input), golden.eval_embedding64 as Tensor) < 1e-5);
    assert.ok(maxAbsDiff(headed.forward(input), expected) > 1e-2);
  });
  plain.dispose();
  headed.dispose();
});
