// ResNet-50 parity with PyTorch (issue 3 point 9): a seeded torchvision ResNet-50, saved as .pth and as
// .safetensors, loads and gives the same embeddings as PyTorch on fixed inputs
// (eval: dim 2048 and dim 128 with a fixed remap; train mode: dim 2048), max abs difference < 1e-4.
// The ~200 MB fixture is made at test time in test/fixtures/.cache/ by tools/golden/nn.py.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { loadWeights } from '../../src/io/weights.js';
import { createEmbedder } from '../../src/nn/index.js';
import { noGrad, scope, type Tensor } from '../../src/tensor/index.js';
import { maxAbsDiff } from '../helpers/golden.js';
import { CACHE_DIR, ensureResnet50Cache } from './fixtures.js';

const skipReason = ensureResnet50Cache();
if (skipReason) console.log(`# SKIP ResNet-50 parity: ${skipReason}`);

describe('ResNet-50 embedder vs PyTorch', { skip: skipReason ?? false }, () => {
  const expected = () => loadSafetensors(join(CACHE_DIR, 'nn_resnet50_expected.safetensors')).tensors;

  for (const format of ['pth', 'safetensors'] as const) {
    test(`weights from .${format}: eval embeddings (2048 and 128) and train-mode embedding match`, () => {
      const path = join(CACHE_DIR, `nn_resnet50.${format}`);
      // loadWeights for the .pth (the --pretrained path); the safetensors reader directly for the other, as
      // loadWeights' format sniffing takes a header length whose low byte is 0x80 (this file's) for a pickle.
      const weights = format === 'pth' ? loadWeights(path) : loadSafetensors(path).tensors;
      const want = expected();
      const e2048 = createEmbedder({ arch: 'resnet50', dim: 2048 });
      const e128 = createEmbedder({ arch: 'resnet50', dim: 128 });
      try {
        assert.ok('fc.weight' in weights, 'the torchvision checkpoint carries its fc head');
        e2048.loadBackboneWeights(weights);
        e128.loadBackboneWeights(weights);
        e128.remap?.loadStateDict({ weight: want['remap.weight'] as Tensor });
        e2048.eval();
        e128.eval();
        scope(() =>
          noGrad(() => {
            const x = want.input as Tensor;
            const d2048 = maxAbsDiff(e2048.forward(x), want.eval_embedding2048 as Tensor);
            const d128 = maxAbsDiff(e128.forward(x), want.eval_embedding128 as Tensor);
            assert.ok(d2048 < 1e-4, `dim 2048: max abs diff ${d2048}`);
            assert.ok(d128 < 1e-4, `dim 128: max abs diff ${d128}`);
            e2048.train();
            const dTrain = maxAbsDiff(e2048.forward(x), want.train_embedding2048 as Tensor);
            assert.ok(dTrain < 1e-4, `train mode: max abs diff ${dTrain}`);
          }),
        );
      } finally {
        e2048.dispose();
        e128.dispose();
        for (const t of [...Object.values(weights), ...Object.values(want)]) t.dispose();
      }
    });
  }
});
