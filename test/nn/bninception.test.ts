// BN-Inception: the layout of the Caffe-converted weights (Cadene's pretrained-models `bninception`),
// ceil-mode pooling arithmetic, and its use as the embedder's backbone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BnInception, createEmbedder } from '../../src/nn/index.js';
import { noGrad, randn, scope, type Tensor } from '../../src/tensor/index.js';
import { maxAbsDiff } from '../helpers/golden.js';

describe('BN-Inception', () => {
  test("Caffe-converted key names and shapes, in the converted model's order", () => {
    const net = new BnInception();
    const shapes = net.stateShapes();
    const expectShape = (k: string, s: number[]) => assert.deepEqual(shapes.get(k), s, k);
    expectShape('conv1_7x7_s2.weight', [64, 3, 7, 7]);
    expectShape('conv1_7x7_s2.bias', [64]);
    expectShape('conv1_7x7_s2_bn.running_var', [64]);
    expectShape('conv2_3x3.weight', [192, 64, 3, 3]);
    expectShape('inception_3a_1x1.weight', [64, 192, 1, 1]);
    expectShape('inception_3a_pool_proj.weight', [32, 192, 1, 1]);
    expectShape('inception_3c_3x3.weight', [160, 128, 3, 3]);
    expectShape('inception_4e_double_3x3_2_bn.weight', [256]);
    expectShape('inception_5a_1x1.weight', [352, 1056, 1, 1]);
    expectShape('inception_5b_pool_proj.weight', [128, 1024, 1, 1]);
    expectShape('last_linear.weight', [1000, 1024]);
    assert.equal(shapes.has('inception_3c_1x1.weight'), false);
    assert.equal(shapes.has('inception_4e_pool_proj.weight'), false);
    const keys = [...shapes.keys()];
    assert.deepEqual(keys.slice(0, 3), ['conv1_7x7_s2.weight', 'conv1_7x7_s2.bias', 'conv1_7x7_s2_bn.weight']);
    assert.deepEqual(keys.slice(-2), ['last_linear.weight', 'last_linear.bias']);
    // 69 conv + 69 bn layers (conv: weight, bias; bn: weight, bias, running_mean, running_var, num_batches_tracked)
    assert.equal(keys.length, 69 * 7 + 2);
    net.dispose();
  });

  // Ceil-mode pooling matters: with floor mode the branches of 3c/4e would disagree in size at 64 (and 224).
  // One input shape throughout: every new shape costs oneDNN a kernel build per convolution.
  test('ceil-mode pooling gives 2x2 maps at 64 (7x7 at 224); head logits; unit-norm embeddings', () => {
    const net = new BnInception().eval();
    scope(() =>
      noGrad(() => {
        assert.deepEqual(net.featureMap(randn([2, 3, 64, 64])).shape, [2, 1024, 2, 2]);
        assert.deepEqual(net.forward(randn([2, 3, 64, 64])).shape, [2, 1000]);
      }),
    );
    net.dispose();
    const e = createEmbedder({ arch: 'bninception', dim: 512 });
    assert.equal(e.width, 1024);
    assert.equal(e.input.colorOrder, 'BGR');
    scope(() => {
      const out = e.forward(randn([2, 3, 64, 64]));
      assert.deepEqual(out.shape, [2, 512]);
      for (const n of out.norm(2, 1).toArray()) assert.ok(Math.abs(n - 1) < 1e-5);
    });
    e.dispose();
  });

  test('loads a Caffe-converted checkpoint: [1, C] BatchNorm vectors, no num_batches_tracked, last_linear ignored', () => {
    const source = new BnInception();
    const e = createEmbedder({ arch: 'bninception' });
    scope(() => {
      const converted: Record<string, Tensor> = {};
      for (const [key, value] of Object.entries(source.stateDict())) {
        if (key.endsWith('num_batches_tracked')) continue;
        converted[key] = /_bn\.(weight|bias|running_mean|running_var)$/.test(key) ? value.reshape(1, -1) : value;
      }
      assert.deepEqual(converted['inception_4a_1x1_bn.running_var']?.shape, [1, 224]);
      noGrad(() => converted['inception_4a_1x1_bn.running_var']?.fill_(3));
      e.loadBackboneWeights(converted);
      const loaded = e.stateDict();
      assert.deepEqual(new Set(loaded['backbone.inception_4a_1x1_bn.running_var']?.toArray()), new Set([3]));
      const w = 'inception_5b_double_3x3_1.weight';
      assert.equal(maxAbsDiff(loaded[`backbone.${w}`] as Tensor, converted[w] as Tensor), 0);
    });
    source.dispose();
    e.dispose();
  });
});
