// issue 11 point 1: for every architecture, onnxruntime-node runs the exported embedder with the stated
// contract (images [N, C, H, W] -> embeddings [N, dim], unit length, any batch size) and agrees with our
// libtorch forward in eval mode to cosine >= 0.9999 per row, with BatchNorm folded into the convolutions
// and kept as BatchNormalization nodes. Weights, BatchNorm statistics and inputs are random.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exportOnnx } from '../../../src/embed/onnx/index.js';
import type { Arch } from '../../../src/nn/embedder.js';
import { Generator, noGrad, randn, scope } from '../../../src/tensor/index.js';
import { batchNormCount, cosine, metadataOf, norm, opTypes, randomEmbedder, row, runOnnx, session } from './helpers.js';

// Small inputs keep the suite fast; global average pooling makes the graph take any height and width.
// BN-Inception at 65 exercises its ceil-mode pools on odd sizes; ResNet-101 runs at 32 (its last map is 1x1).
const CASES: { arch: Arch; size: number; dim: number }[] = [
  { arch: 'resnet18', size: 64, dim: 48 },
  { arch: 'resnet34', size: 64, dim: 512 },
  { arch: 'resnet50', size: 64, dim: 64 },
  { arch: 'resnet101', size: 32, dim: 64 },
  { arch: 'bninception', size: 65, dim: 96 },
  { arch: 'smallcnn', size: 28, dim: 32 },
];
const MIN_COSINE = 0.9999;

describe('ONNX export agrees with the libtorch forward', () => {
  CASES.forEach(({ arch, size, dim }, k) => {
    test(`${arch} at ${size}x${size}, dim ${dim}: folded and unfolded BatchNorm, batch 3 and 1`, async () => {
      const c = arch === 'smallcnn' ? 1 : 3;
      const shape = [c, size, size];
      const perImage = c * size * size;
      const calibration = randn([4, ...shape], { generator: new Generator(50 + k) });
      const model = randomEmbedder(arch, dim, 100 + k, calibration);
      calibration.dispose();
      try {
        const x = randn([3, ...shape], { generator: new Generator(7 + k) });
        const images = x.toTypedArray() as Float32Array;
        const want = scope(() => noGrad(() => model.forward(x).toTypedArray())) as Float32Array;
        x.dispose();
        // Not a collapsed network: different images give clearly different embeddings.
        for (const [i, j] of [
          [0, 1],
          [0, 2],
          [1, 2],
        ] as const) {
          const between = cosine(row(want, dim, i), row(want, dim, j));
          assert.ok(between < 0.99, `${arch}: images ${i} and ${j} give nearly the same embedding (${between})`);
        }
        for (const foldBn of [true, false]) {
          const bytes = exportOnnx(model, { foldBn });
          const ops = opTypes(bytes);
          const bnNodes = ops.filter((op) => op === 'BatchNormalization').length;
          assert.equal(
            bnNodes,
            foldBn ? 0 : batchNormCount(model),
            `${arch} foldBn=${foldBn}: BatchNormalization nodes`,
          );
          const s = await session(bytes);
          try {
            const three = await runOnnx(s, images, [3, ...shape]);
            assert.deepEqual(three.dims, [3, dim]);
            const one = await runOnnx(s, images.slice(0, perImage), [1, ...shape]);
            assert.deepEqual(one.dims, [1, dim]);
            const rows = [0, 1, 2].map((i) => row(three.data, dim, i));
            rows.push(one.data);
            rows.forEach((got, i) => {
              const expected = row(want, dim, i % 3);
              const cos = cosine(got, expected);
              assert.ok(cos >= MIN_COSINE, `${arch} foldBn=${foldBn} row ${i}: cosine ${cos}`);
              // Stricter than the contract: float32 rounding only (a wrong epsilon or pooling mode is far larger).
              const diff = Math.max(...got.map((v, j) => Math.abs(v - (expected[j] as number))));
              assert.ok(diff < 1e-4, `${arch} foldBn=${foldBn} row ${i}: max abs difference ${diff}`);
              assert.ok(Math.abs(norm(got) - 1) < 1e-5, `${arch} row ${i}: norm ${norm(got)}`);
            });
          } finally {
            await s.release();
          }
        }
      } finally {
        model.dispose();
      }
    });
  });
});

test('an embedder trained without the LayerNorm head exports without it (and says so in the metadata)', async () => {
  const calibration = randn([4, 1, 28, 28], { generator: new Generator(30) });
  const model = randomEmbedder('smallcnn', 24, 31, calibration, { layerNorm: false });
  calibration.dispose();
  try {
    const x = randn([2, 1, 28, 28], { generator: new Generator(32) });
    const want = scope(() => noGrad(() => model.forward(x).toTypedArray())) as Float32Array;
    for (const opset of [13, 17]) {
      const bytes = exportOnnx(model, { opset });
      const ops = opTypes(bytes);
      assert.ok(!ops.includes('LayerNormalization') && !ops.includes('ReduceMean'), `opset ${opset}: ${ops}`);
      assert.equal(metadataOf(bytes).layer_norm, 'false');
      const s = await session(bytes);
      try {
        const got = await runOnnx(s, x.toTypedArray() as Float32Array, [2, 1, 28, 28]);
        for (const i of [0, 1]) {
          const cos = cosine(row(got.data, 24, i), row(want, 24, i));
          assert.ok(cos >= MIN_COSINE, `opset ${opset} row ${i}: cosine ${cos}`);
        }
      } finally {
        await s.release();
      }
    }
    x.dispose();
  } finally {
    model.dispose();
  }
});
