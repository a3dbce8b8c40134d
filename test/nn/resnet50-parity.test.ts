// ResNet-50 parity with PyTorch (issue 3 point 9): a seeded torchvision ResNet-50 (random BatchNorm
// statistics too), saved as .pth and as .safetensors, loads and gives the same embeddings as PyTorch on
// fixed inputs, max abs difference < 1e-4: from the .pth, dim 2048 in eval and train mode; from the
// .safetensors, dim 128 through a fixed remap. The ~200 MB fixture is made at test time in
// test/fixtures/.cache/ by tools/golden/nn.py (skipped, saying so, when the reference Python lacks torch; a failure under CI).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { loadWeights } from '../../src/io/weights.js';
import { createEmbedder, type Embedder } from '../../src/nn/index.js';
import { noGrad, scope, type Tensor } from '../../src/tensor/index.js';
import { maxAbsDiff } from '../helpers/golden.js';
import { CACHE_DIR, ensureResnet50Cache } from './fixtures.js';

const TOL = 1e-4;
const skipReason = ensureResnet50Cache();
if (skipReason) console.log(`# SKIP ResNet-50 parity: ${skipReason}`);

function withEmbedder(dim: number, weights: Record<string, Tensor>, fn: (e: Embedder) => void): void {
  const e = createEmbedder({ arch: 'resnet50', dim });
  try {
    assert.ok('fc.weight' in weights, 'the torchvision checkpoint carries its fc head (ignored)');
    e.loadBackboneWeights(weights);
    scope(() => noGrad(() => fn(e)));
  } finally {
    e.dispose();
    for (const t of Object.values(weights)) t.dispose();
  }
}

describe('ResNet-50 embedder vs PyTorch', { skip: skipReason ?? false }, () => {
  const expected = () => loadSafetensors(join(CACHE_DIR, 'nn_resnet50_expected.safetensors')).tensors;

  test('weights from .pth (loadWeights): dim 2048, eval and train mode', () => {
    const want = expected();
    withEmbedder(2048, loadWeights(join(CACHE_DIR, 'nn_resnet50.pth')), (e) => {
      assert.equal(e.remap, null);
      const dEval = maxAbsDiff(e.eval().forward(want.input as Tensor), want.eval_embedding2048 as Tensor);
      assert.ok(dEval < TOL, `eval: max abs diff ${dEval}`);
      const dTrain = maxAbsDiff(e.train().forward(want.input as Tensor), want.train_embedding2048 as Tensor);
      assert.ok(dTrain < TOL, `train mode: max abs diff ${dTrain}`);
    });
  });

  test('weights from .safetensors: dim 128 through a fixed remap, eval mode', () => {
    const want = expected();
    // Read with the safetensors reader: loadWeights' format sniffing mistakes this file (its header
    // length's first byte is 0x80) for a legacy pickle.
    withEmbedder(128, loadSafetensors(join(CACHE_DIR, 'nn_resnet50.safetensors')).tensors, (e) => {
      e.remap?.loadStateDict({ weight: want['remap.weight'] as Tensor });
      const d = maxAbsDiff(e.eval().forward(want.input as Tensor), want.eval_embedding128 as Tensor);
      assert.ok(d < TOL, `dim 128: max abs diff ${d}`);
    });
  });
});
