// Folding BatchNorm into the convolution before it: a hand-computed case, and the folded convolution
// against conv2d followed by eval-mode batch_norm in libtorch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldBatchNorm } from '../../../src/embed/onnx/bn-fold.js';
import { F, Generator, noGrad, normal, randn, scope, tensor, uniform } from '../../../src/tensor/index.js';

test('hand-computed: s = gamma / sqrt(var + eps), w * s, beta + (b - mean) * s', () => {
  // Two output channels of a 1x1 convolution with one input channel; eps 1 keeps the numbers round.
  const folded = foldBatchNorm(Float32Array.of(2, -3), Float32Array.of(1, 0.5), {
    weight: Float32Array.of(2, 0.5),
    bias: Float32Array.of(0.1, -0.2),
    runningMean: Float32Array.of(1, -1),
    runningVar: Float32Array.of(3, 0.25),
    eps: 1,
  });
  // s0 = 2 / sqrt(4) = 1; s1 = 0.5 / sqrt(1.25) = 0.4472135955
  assert.deepEqual([...folded.weight], [2, Math.fround(-3 * 0.4472135955)]);
  assert.ok(Math.abs((folded.bias[0] as number) - 0.1) < 1e-7);
  assert.ok(Math.abs((folded.bias[1] as number) - (-0.2 + 1.5 * 0.4472135955)) < 1e-7);
});

test('no convolution bias and no BatchNorm affine: w / sqrt(var + eps), -mean / sqrt(var + eps)', () => {
  const folded = foldBatchNorm(Float32Array.of(1, 2, 3, 4), null, {
    weight: null,
    bias: null,
    runningMean: Float32Array.of(2, -4),
    runningVar: Float32Array.of(4, 16),
    eps: 0,
  });
  assert.deepEqual([...folded.weight], [0.5, 1, 0.75, 1]);
  assert.deepEqual([...folded.bias], [-1, 1]);
});

test('the folded 3x3 convolution equals conv2d then eval-mode batch_norm in libtorch', () => {
  scope(() =>
    noGrad(() => {
      const g = new Generator(3);
      const x = randn([2, 4, 9, 9], { generator: g });
      const w = randn([6, 4, 3, 3], { generator: g });
      const b = randn([6], { generator: g });
      const gamma = uniform([6], 0.5, 1.5, { generator: g });
      const beta = normal([6], 0, 0.5, { generator: g });
      const mean = normal([6], 0, 0.5, { generator: g });
      const variance = uniform([6], 0.2, 3, { generator: g });
      const eps = 1e-3;
      const bn = { runningMean: mean, runningVar: variance, weight: gamma, bias: beta, training: false, eps };
      const want = F.batchNorm(F.conv2d(x, w, b, { stride: 2, padding: 1 }), bn);
      const host = (t: typeof x) => t.toTypedArray() as Float32Array;
      const folded = foldBatchNorm(host(w), host(b), {
        weight: host(gamma),
        bias: host(beta),
        runningMean: host(mean),
        runningVar: host(variance),
        eps,
      });
      const got = F.conv2d(x, tensor(folded.weight, { shape: [6, 4, 3, 3] }), tensor(folded.bias), {
        stride: 2,
        padding: 1,
      });
      const diff = got.sub(want).abs().max().item();
      assert.ok(diff < 1e-5, `max abs difference ${diff}`);
      assert.ok(want.abs().max().item() > 1, 'the outputs are not trivially small');
    }),
  );
});
