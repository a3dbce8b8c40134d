// ONNX export of the ViTs (issue 20 point 5): the emitted backbone graph, run by onnxruntime-node, gives the
// publishers' features for the tiny models of tools/golden/vit.py (torchvision's VisionTransformer, DINO,
// DINOv2 with and without registers, at its own size and at a smaller one where the position embeddings
// are interpolated at export, CLIP's image tower), at the lowest opset (LayerNorm decomposed, Softmax's old
// semantics) and the default one, for batch 2 and 1; and a whole dino_vits16 embedder exported as `export`
// and `--engine onnxruntime` do agrees with libtorch to cosine >= 0.9999, fixed to its crop size.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { emitVit } from '../../../src/embed/onnx/emit-vit.js';
import { exportOnnx } from '../../../src/embed/onnx/index.js';
import { DEFAULT_OPSET, irVersionFor, MIN_OPSET } from '../../../src/embed/onnx/opset.js';
import { encodeModel, GraphBuilder, tensorValueInfo } from '../../../src/embed/onnx/proto.js';
import type { Backbone } from '../../../src/nn/backbone.js';
import { createEmbedder } from '../../../src/nn/embedder.js';
import { ClipVisionTransformer, DinoVisionTransformer, VisionTransformer } from '../../../src/nn/index.js';
import { Generator, manualSeed, noGrad, randn, scope, type Tensor } from '../../../src/tensor/index.js';
import { vitGolden } from '../../nn/vit-fixtures.js';
import { cosine, metadataOf, opTypes, row, session } from './helpers.js';

/** The backbone alone as a model: images [N, 3, size, size] -> features [N, width]. */
function backboneModel(backbone: Backbone, size: number, opset: number): Uint8Array {
  const g = new GraphBuilder(opset);
  const images = g.reserve('images');
  const out = emitVit(g, images, backbone, size, 'backbone');
  return encodeModel({
    irVersion: irVersionFor(opset),
    producerName: 'test',
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'vit',
      node: g.nodes,
      initializer: g.initializers,
      input: [tensorValueInfo('images', ['N', 3, size, size])],
      output: [tensorValueInfo(out, ['N', backbone.width])],
    },
  });
}

async function run(bytes: Uint8Array, x: Tensor): Promise<Float32Array> {
  const s = await session(bytes);
  try {
    const feeds = { images: new ort.Tensor('float32', x.toTypedArray() as Float32Array, x.shape as number[]) };
    const out = await s.run(feeds);
    return (Object.values(out)[0] as ort.Tensor).data as Float32Array;
  } finally {
    await s.release();
  }
}

const V2 = { imgSize: 56, patchSize: 14, embedDim: 32, depth: 2, numHeads: 4, layerScale: 1.0, maskToken: true };
const FAMILIES: { file: string; make: () => Backbone; cases: [string, string][] }[] = [
  {
    file: 'torchvision.safetensors',
    make: () =>
      new VisionTransformer({
        imageSize: 32,
        patchSize: 8,
        numLayers: 2,
        numHeads: 4,
        hiddenDim: 32,
        mlpDim: 64,
        numClasses: 10,
      }),
    cases: [
      ['input', 'features'],
      ['input1', 'features1'],
    ],
  },
  {
    file: 'dino.safetensors',
    make: () =>
      new DinoVisionTransformer({
        imgSize: 32,
        patchSize: 8,
        embedDim: 32,
        depth: 2,
        numHeads: 4,
        interpolation: { offset: 0.1, antialias: false },
      }),
    cases: [['input', 'features']],
  },
  {
    file: 'dinov2.safetensors',
    make: () => new DinoVisionTransformer({ ...V2, interpolation: { offset: 0.1, antialias: false } }),
    cases: [
      ['input', 'features'],
      ['input_small', 'features_small'],
    ],
  },
  {
    file: 'dinov2_reg.safetensors',
    make: () => new DinoVisionTransformer({ ...V2, registers: 4, interpolation: { offset: 0, antialias: true } }),
    cases: [
      ['input', 'features'],
      ['input_small', 'features_small'],
    ],
  },
  {
    file: 'clip.safetensors',
    make: () =>
      new ClipVisionTransformer({ inputResolution: 32, patchSize: 8, width: 32, layers: 2, heads: 4, outputDim: 24 }),
    cases: [
      ['input', 'features'],
      ['input1', 'features1'],
    ],
  },
];

describe("the ViT backbones' ONNX graphs give the publishers' features", () => {
  for (const { file, make, cases } of FAMILIES) {
    test(`${file.replace('.safetensors', '')}: ${cases.map(([i]) => i).join(', ')} at opsets ${MIN_OPSET} and ${DEFAULT_OPSET}`, async () => {
      const g = vitGolden(file);
      const vit = make();
      try {
        vit.loadStateDict(vit.adaptWeights(g.weights()));
        vit.eval();
        for (const opset of [MIN_OPSET, DEFAULT_OPSET]) {
          for (const [input, want] of cases) {
            const x = g.t[input] as Tensor;
            const expected = g.t[want] as Tensor;
            const got = await run(backboneModel(vit, x.shape[2] as number, opset), x);
            const width = expected.shape[1] as number;
            const wantData = expected.toTypedArray() as Float32Array;
            let diff = 0;
            for (let i = 0; i < got.length; i++)
              diff = Math.max(diff, Math.abs((got[i] as number) - (wantData[i] as number)));
            assert.equal(got.length, wantData.length);
            assert.ok(diff < 1e-4, `${file} ${want} opset ${opset}: max abs difference ${diff}`);
            for (let r = 0; r < (expected.shape[0] as number); r++) {
              const c = cosine(row(got, width, r), row(wantData, width, r));
              assert.ok(c >= 0.99999, `${file} ${want} opset ${opset} row ${r}: cosine ${c}`);
            }
          }
        }
      } finally {
        vit.dispose();
      }
    });
  }

  test('a size the model does not take is refused before anything is emitted', () => {
    const clip = FAMILIES[4]?.make() as Backbone;
    const dino = FAMILIES[1]?.make() as Backbone;
    try {
      assert.throws(
        () => backboneModel(clip, 48, DEFAULT_OPSET),
        /ClipVisionTransformer takes 32 x 32 images, not 48 x 48/,
      );
      assert.throws(() => backboneModel(dino, 36, DEFAULT_OPSET), /36 x 36 is not a whole number of 8-pixel patches/);
    } finally {
      clip.dispose();
      dino.dispose();
    }
  });
});

test('dino_vits16 exported whole (224, dim 64): onnxruntime agrees with libtorch, batch 2', async () => {
  manualSeed(3);
  const model = createEmbedder({ arch: 'dino_vits16', dim: 64 }).eval();
  try {
    const bytes = exportOnnx(model);
    assert.ok(!opTypes(bytes).includes('GlobalAveragePool'));
    const meta = metadataOf(bytes);
    assert.deepEqual(
      [meta.input_size, meta.resize, meta.resize_mode, meta.resize_filter],
      ['224', '256', 'shorter', 'bicubic'],
    );
    const x = randn([2, 3, 224, 224], { generator: new Generator(9) });
    const want = scope(() => noGrad(() => model.forward(x).toTypedArray())) as Float32Array;
    const s = await session(bytes);
    try {
      const out = await s.run({
        images: new ort.Tensor('float32', x.toTypedArray() as Float32Array, [2, 3, 224, 224]),
      });
      const got = (out.embeddings as ort.Tensor).data as Float32Array;
      assert.deepEqual((out.embeddings as ort.Tensor).dims, [2, 64]);
      for (const r of [0, 1]) {
        const c = cosine(row(got, 64, r), row(want, 64, r));
        assert.ok(c >= 0.9999, `row ${r}: cosine ${c}`);
      }
      assert.ok(cosine(row(want, 64, 0), row(want, 64, 1)) < 0.99, 'two images, two embeddings');
      // A graph made for 224: another size is the runtime's error, not a silent wrong answer.
      await assert.rejects(
        s.run({ images: new ort.Tensor('float32', new Float32Array(3 * 112 * 112), [1, 3, 112, 112]) }),
      );
    } finally {
      await s.release();
      x.dispose();
    }
  } finally {
    model.dispose();
  }
});
