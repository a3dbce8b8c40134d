// BN-Inception parity with PyTorch (issue 8 point 14): tools/golden/bninception.py writes seeded weights
// in the Caffe-converted layout ([1, C] BatchNorm vectors, no num_batches_tracked, last_linear head) with
// calibrated and perturbed BatchNorm statistics, and its forward on a fixed 64x64 input (ceil-mode
// pooling at every stride-2 pool). Ours must load that file and give the same pooled features and logits
// in eval mode, the same features in train mode (batch statistics), and the same running statistics
// after the train-mode step. The ~90 MB fixture is made at test time in test/fixtures/.cache/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { loadWeights } from '../../src/io/weights.js';
import { BnInception } from '../../src/nn/index.js';
import { noGrad, scope, type Tensor } from '../../src/tensor/index.js';
import { maxAbsDiff } from '../helpers/golden.js';
import { ensureBninceptionCache } from './fixtures.js';

const REL_TOL = 1e-4;
// Train mode normalises by the batch's own statistics (a batch of 2 here), which amplifies the rounding of
// sums whose order follows the thread count: 1.2e-4 with one thread against the reference's two. A wrong
// statistic (the running ones, a biased variance) is off by far more than this.
const TRAIN_REL_TOL = 5e-4;
const cache = ensureBninceptionCache();

/** max |a - b| / max |b|: the relative error on the scale of the reference. */
function relDiff(a: Tensor, b: Tensor): number {
  const scale = b.abs().max().item();
  return maxAbsDiff(a, b) / scale;
}

describe('BN-Inception vs the PyTorch reference', { skip: cache.skip }, () => {
  test('Caffe-layout weights: eval features and logits, train-mode features and running statistics', () => {
    const want = loadSafetensors(join(cache.dir, 'expected.safetensors')).tensors;
    const weights = loadWeights(join(cache.dir, 'weights_caffe.safetensors'));
    const net = new BnInception();
    try {
      assert.deepEqual(weights['conv1_7x7_s2_bn.running_var']?.shape, [1, 64], 'the file has [1, C] BN vectors');
      assert.equal('conv1_7x7_s2_bn.num_batches_tracked' in weights, false);
      scope(() => net.loadStateDict(net.adaptWeights(weights))); // strict: every key and shape must fit
      // The converted file has no counters: the reference's were random; give ours the same start.
      scope(() =>
        noGrad(() => {
          const buffers = net.stateDict();
          for (const [k, v] of Object.entries(want)) {
            if (k.startsWith('after.') && k.endsWith('num_batches_tracked')) {
              buffers[k.slice('after.'.length)]?.fill_(v.item() - 1);
            }
          }
        }),
      );
      const x = want.input as Tensor;
      scope(() =>
        noGrad(() => {
          net.eval();
          const f = net.features(x);
          const dF = relDiff(f, want.eval_features as Tensor);
          assert.ok(dF < REL_TOL, `eval features: relative difference ${dF}`);
          const dL = relDiff(net.forward(x), want.eval_logits as Tensor);
          assert.ok(dL < REL_TOL, `eval logits: relative difference ${dL}`);
          net.train();
          const t = relDiff(net.features(x), want.train_features as Tensor);
          assert.ok(t < TRAIN_REL_TOL, `train-mode features: relative difference ${t}`);
        }),
      );
      scope(() => {
        const state = net.stateDict();
        let checked = 0;
        for (const [k, v] of Object.entries(want)) {
          if (!k.startsWith('after.')) continue;
          const ours = state[k.slice('after.'.length)] as Tensor;
          assert.ok(ours, `no buffer ${k}`);
          if (k.endsWith('num_batches_tracked')) assert.equal(ours.item(), v.item(), k);
          else assert.ok(relDiff(ours, v) < REL_TOL, `${k}: relative difference ${relDiff(ours, v)}`);
          checked++;
        }
        assert.equal(checked, 69 * 3);
      });
    } finally {
      net.dispose();
      for (const t of Object.values(weights)) t.dispose();
      for (const t of Object.values(want)) t.dispose();
    }
  });
});
