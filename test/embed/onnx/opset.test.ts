// --opset: every opset in the supported range loads in onnxruntime-node 1.30 and gives the libtorch
// embeddings (LayerNormalization as one node from 17, decomposed below; Reduce* axes as an input from
// 18); values outside it are one-line UsageErrors.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { exportOnnx } from '../../../src/embed/onnx/index.js';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, parseOpset } from '../../../src/embed/onnx/opset.js';
import { Generator, noGrad, randn, scope } from '../../../src/tensor/index.js';
import { UsageError } from '../../../src/util/errors.js';
import { cosine, decodeModel, opTypes, randomEmbedder, row, runOnnx, session } from './helpers.js';

describe('parseOpset', () => {
  test('default 17, and the range ends are accepted', () => {
    assert.equal(parseOpset(undefined), 17);
    assert.equal(DEFAULT_OPSET, 17);
    assert.equal(parseOpset(String(MIN_OPSET)), 10);
    assert.equal(parseOpset(String(MAX_OPSET)), 23);
  });
  for (const bad of ['9', '24', '17.5', 'seventeen', '', '-1']) {
    test(`"${bad}" is a one-line UsageError naming --opset and the range`, () => {
      assert.throws(
        () => parseOpset(bad),
        (e: unknown) =>
          e instanceof UsageError &&
          !e.message.includes('\n') &&
          e.message.startsWith('--opset: expected an integer from 10') &&
          e.message.includes('to 23'),
      );
    });
  }
  test('exportOnnx refuses an opset outside the range with the same UsageError', () => {
    const calibration = randn([4, 1, 28, 28], { generator: new Generator(1) });
    const model = randomEmbedder('smallcnn', 16, 2, calibration);
    calibration.dispose();
    try {
      assert.throws(() => exportOnnx(model, { opset: 9 }), UsageError);
    } finally {
      model.dispose();
    }
  });
});

describe('every supported opset runs in onnxruntime and matches libtorch', () => {
  const calibration = randn([4, 1, 28, 28], { generator: new Generator(3) });
  const model = randomEmbedder('smallcnn', 16, 4, calibration);
  calibration.dispose();
  const x = randn([2, 1, 28, 28], { generator: new Generator(5) });
  const images = x.toTypedArray() as Float32Array;
  const want = scope(() => noGrad(() => model.forward(x).toTypedArray())) as Float32Array;
  x.dispose();
  after(() => model.dispose());

  for (let opset = MIN_OPSET; opset <= MAX_OPSET; opset++) {
    test(`opset ${opset}`, async () => {
      const bytes = exportOnnx(model, { opset });
      const proto = decodeModel(bytes);
      assert.equal(Number(proto.opsetImport[0]?.version), opset);
      const ops = opTypes(bytes);
      assert.equal(ops.includes('LayerNormalization'), opset >= 17);
      assert.equal(ops.includes('ReduceMean'), opset < 17);
      const s = await session(bytes);
      try {
        const got = await runOnnx(s, images, [2, 1, 28, 28]);
        for (const i of [0, 1]) {
          const cos = cosine(row(got.data, 16, i), row(want, 16, i));
          assert.ok(cos >= 0.9999, `opset ${opset} row ${i}: cosine ${cos}`);
        }
      } finally {
        await s.release();
      }
    });
  }
});
