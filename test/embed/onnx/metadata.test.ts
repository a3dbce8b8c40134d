// metadata_props and the graph's input and output: the preprocessing the eval pipeline applies (resize,
// crop, colour order, range, mean, std) and the embedder's identity, for each kind of input spec.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { onnx } from 'onnx-proto';
import { exportOnnx, preprocessingOf } from '../../../src/embed/onnx/index.js';
import { onnxMetadata } from '../../../src/embed/onnx/metadata.js';
import { onnxModelInfo } from '../../../src/embed/onnx-metadata.js';
import { createEmbedder } from '../../../src/nn/embedder.js';
import { Generator } from '../../../src/tensor/index.js';
import { InputError } from '../../../src/util/errors.js';
import { decodeModel, metadataOf } from './helpers.js';

const VERSION = (
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string }
).version;

/** The graph's input and output shapes (symbolic dimensions by name) and names. */
function signature(bytes: Uint8Array) {
  const g = decodeModel(bytes).graph as onnx.GraphProto;
  const dims = (v: onnx.IValueInfoProto | undefined) =>
    (v?.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
  return {
    input: dims(g.input[0]),
    output: dims(g.output[0]),
    names: [g.input[0]?.name, g.output[0]?.name],
  };
}

describe('ONNX metadata_props', () => {
  test('resnet18 from a checkpoint with resize 288 / crop 256: ImageNet RGB preprocessing and identity', () => {
    const model = createEmbedder({ arch: 'resnet18', dim: 32, generator: new Generator(0) }).eval();
    try {
      const bytes = exportOnnx(model, {
        pipeline: { resize: 288, crop: 256 },
        identity: { kind: 'checkpoint', name: 'run.ckpt', sha256: 'ab'.repeat(32) },
      });
      const meta = metadataOf(bytes);
      assert.deepEqual(
        { ...meta, preprocessing: undefined },
        {
          normsoftmax_version: VERSION,
          arch: 'resnet18',
          dim: '32',
          width: '512',
          layer_norm: 'true',
          fold_bn: 'true',
          source_kind: 'checkpoint',
          checkpoint_name: 'run.ckpt',
          checkpoint_sha256: 'ab'.repeat(32),
          input: 'images',
          output: 'embeddings',
          layout: 'NCHW',
          resize: '288',
          crop: '256',
          input_size: '256',
          color_order: 'RGB',
          channels: '3',
          range: '1',
          mean: '[0.485,0.456,0.406]',
          std: '[0.229,0.224,0.225]',
          preprocessing: undefined,
        },
      );
      assert.deepEqual(JSON.parse(meta.preprocessing as string), {
        resize: 288,
        crop: 256,
        size: 256,
        colorOrder: 'RGB',
        channels: 3,
        range: 1,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
      });
      assert.deepEqual(signature(bytes), {
        input: ['N', 3, 'H', 'W'],
        output: ['N', 32],
        names: ['images', 'embeddings'],
      });
      const proto = decodeModel(bytes);
      assert.equal(proto.producerName, 'normsoftmax');
      assert.equal(proto.producerVersion, VERSION);
    } finally {
      model.dispose();
    }
  });

  test('bninception: Caffe input (BGR, 0-255, mean 104/117/128, std 1), the paper pipeline 256/224', () => {
    const model = createEmbedder({ arch: 'bninception', generator: new Generator(0) }).eval();
    try {
      const bytes = exportOnnx(model, { foldBn: false, dynamicBatch: false });
      const meta = metadataOf(bytes);
      assert.equal(meta.color_order, 'BGR');
      assert.equal(meta.range, '255');
      assert.equal(meta.mean, '[104,117,128]');
      assert.equal(meta.std, '[1,1,1]');
      assert.equal(meta.resize, '256');
      assert.equal(meta.crop, '224');
      assert.equal(meta.dim, '1024');
      assert.equal(meta.fold_bn, 'false');
      assert.equal(meta.source_kind, 'model');
      assert.equal(meta.checkpoint_sha256, undefined);
      assert.deepEqual(signature(bytes).input, [1, 3, 'H', 'W']);
      assert.deepEqual(signature(bytes).output, [1, 1024]);
    } finally {
      model.dispose();
    }
  });

  test('smallcnn: grayscale 28x28 used as is (no resize or crop), a fixed input size when asked', () => {
    const model = createEmbedder({ arch: 'smallcnn', dim: 16, generator: new Generator(0) }).eval();
    try {
      const bytes = exportOnnx(model, { inputSize: 28 });
      const meta = metadataOf(bytes);
      assert.equal(meta.color_order, 'gray');
      assert.equal(meta.channels, '1');
      assert.equal(meta.resize, 'none');
      assert.equal(meta.crop, 'none');
      assert.equal(meta.input_size, '28');
      assert.equal(meta.mean, '[0.5]');
      assert.equal(meta.std, '[0.5]');
      assert.deepEqual(signature(bytes).input, ['N', 1, 28, 28]);
    } finally {
      model.dispose();
    }
  });

  test("a ViT: its publisher's resize in resize_mode / resize_filter and the JSON, read back as written", () => {
    const model = createEmbedder({ arch: 'dinov2_vits14', dim: 8, uninitialisedBackbone: true });
    try {
      const preprocessing = preprocessingOf(model, { resize: 288, crop: 252 });
      const meta = onnxMetadata(model, { preprocessing, identity: { kind: 'model' }, foldBn: false });
      assert.deepEqual(
        [meta.resize, meta.resize_mode, meta.resize_filter, meta.crop, meta.input_size],
        ['288', 'shorter', 'bicubic', '252', '252'],
      );
      const info = onnxModelInfo(meta, 'm.onnx');
      assert.deepEqual(info.preprocessing, {
        resize: 288,
        resizeMode: 'shorter',
        filter: 'bicubic',
        crop: 252,
        size: 252,
        colorOrder: 'RGB',
        channels: 3,
        range: 1,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
      });
      // A resize this version cannot do is refused, not done another way.
      for (const [key, value, message] of [
        ['resizeMode', 'longer', /m\.onnx: preprocessing resizeMode must be square or shorter, got "longer"/],
        ['filter', 'lanczos', /m\.onnx: preprocessing filter must be bilinear or bicubic, got "lanczos"/],
      ] as const) {
        const bad = { ...meta, preprocessing: JSON.stringify({ ...preprocessing, [key]: value }) };
        assert.throws(
          () => onnxModelInfo(bad, 'm.onnx'),
          (e) => e instanceof InputError && message.test(e.message),
        );
      }
    } finally {
      model.dispose();
    }
  });
});
