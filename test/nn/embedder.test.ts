// The embedder: recipe parity on the small CNN (PyTorch golden), key layout, parameter groups,
// backbone-weight loading (head ignored, clear errors), unit-norm output, and the BN-Inception layout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ARCHS,
  CAFFE_BGR_INPUT,
  createEmbedder,
  IMAGENET_INPUT,
  normalisationAffine,
  ResNet,
  SmallCnn,
  StateDictError,
} from '../../src/nn/index.js';
import { randn, scope, type Tensor } from '../../src/tensor/index.js';
import { maxAbsDiff } from '../helpers/golden.js';
import { goldenSafetensors } from './fixtures.js';

describe('small CNN and the embedding recipe vs PyTorch', () => {
  const golden = goldenSafetensors('nn_smallcnn.safetensors');
  const g = (k: string) => golden[k] as Tensor;

  test('backbone features and embeddings (no remap, and 128 -> 64 remap) in eval mode', () => {
    const plain = createEmbedder({ arch: 'smallcnn' });
    const remapped = createEmbedder({ arch: 'smallcnn', dim: 64 });
    assert.equal(plain.remap, null);
    plain.loadStateDict(prefixed(golden, 'backbone.'));
    remapped.loadStateDict({ ...prefixed(golden, 'backbone.'), 'remap.weight': g('remap.weight') });
    plain.eval();
    remapped.eval();
    scope(() => {
      assert.ok(maxAbsDiff(plain.backbone.features(g('input')), g('eval_features')) < 1e-5);
      assert.ok(maxAbsDiff(plain.forward(g('input')), g('eval_embedding128')) < 1e-5);
      assert.ok(maxAbsDiff(remapped.forward(g('input')), g('eval_embedding64')) < 1e-5);
    });
    plain.dispose();
    remapped.dispose();
  });

  test('train mode uses batch statistics and updates running statistics as PyTorch', () => {
    const e = createEmbedder({ arch: 'smallcnn', dim: 64 });
    e.loadStateDict({ ...prefixed(golden, 'backbone.'), 'remap.weight': g('remap.weight') });
    e.train();
    scope(() => {
      assert.ok(maxAbsDiff(e.forward(g('input')), g('train_embedding64')) < 1e-5);
      const sd = e.stateDict();
      assert.ok(maxAbsDiff(sd['backbone.bn3.running_mean'] as Tensor, g('after.bn3.running_mean')) < 1e-6);
      assert.ok(maxAbsDiff(sd['backbone.bn3.running_var'] as Tensor, g('after.bn3.running_var')) < 1e-6);
    });
    e.dispose();
  });

  test('the small CNN maps 28x28 grayscale to 128 features through 7x7 maps', () => {
    const net = new SmallCnn();
    scope(() => {
      const x = randn([3, 1, 28, 28]);
      assert.deepEqual(net.featureMap(x).shape, [3, 128, 7, 7]);
      assert.deepEqual(net.features(x).shape, [3, 128]);
    });
    assert.deepEqual(Object.keys(net.stateDict()).slice(0, 7), [
      'conv1.weight',
      'bn1.weight',
      'bn1.bias',
      'bn1.running_mean',
      'bn1.running_var',
      'bn1.num_batches_tracked',
      'conv2.weight',
    ]);
    net.dispose();
  });
});

function prefixed(record: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(record)) if (k.startsWith(prefix)) out[k] = v;
  return out;
}

describe('Embedder', () => {
  test('state-dict keys are backbone.<torchvision keys> and remap.weight; parameter groups split them', () => {
    const e = createEmbedder({ arch: 'resnet18', dim: 64 });
    const keys = Object.keys(e.stateDict());
    assert.equal(keys[0], 'backbone.conv1.weight');
    assert.equal(keys.at(-1), 'remap.weight');
    assert.ok(keys.every((k) => !k.startsWith('backbone.fc.')));
    assert.deepEqual(e.stateDict()['remap.weight']?.shape, [64, 512]);
    assert.equal(e.newParameters().length, 1);
    assert.equal(e.newParameters()[0], e.remap?.weight);
    assert.equal(e.backboneParameters().length + 1, e.parameters().length);
    const bound = 1 / Math.sqrt(512);
    scope(() => {
      const w = e.remap?.weight as Tensor;
      assert.ok(w.abs().max().item() <= bound && w.abs().max().item() > 0.95 * bound);
    });
    e.dispose();
    const same = createEmbedder({ arch: 'resnet18', dim: 512 });
    assert.equal(same.remap, null);
    assert.deepEqual(same.newParameters(), []);
    same.dispose();
  });

  test('forward gives unit-norm rows [N, dim] and gradients reach the backbone', () => {
    const e = createEmbedder({ arch: 'smallcnn', dim: 32 });
    scope(() => {
      const out = e.forward(randn([3, 1, 28, 28]));
      assert.deepEqual(out.shape, [3, 32]);
      for (const n of out.norm(2, 1).toArray()) assert.ok(Math.abs(n - 1) < 1e-5);
      out.select(1, 0).sum().backward();
      assert.ok(e.backboneParameters()[0]?.grad !== null);
      assert.ok(e.newParameters()[0]?.grad !== null);
    });
    e.dispose();
  });

  test('loadBackboneWeights takes a torchvision state dict with fc.*, and names what does not fit', () => {
    const source = new ResNet(18);
    const e = createEmbedder({ arch: 'resnet18', dim: 16 });
    scope(() => {
      const sd = source.stateDict();
      e.loadBackboneWeights(sd);
      assert.equal(
        maxAbsDiff(e.stateDict()['backbone.layer4.1.conv2.weight'] as Tensor, sd['layer4.1.conv2.weight'] as Tensor),
        0,
      );
      const prefixedSd = Object.fromEntries(Object.entries(sd).map(([k, v]) => [`module.${k}`, v]));
      e.loadBackboneWeights(prefixedSd);
      delete sd['layer1.0.bn1.running_mean'];
      sd['layer5.weight'] = sd['conv1.weight'] as Tensor;
      assert.throws(
        () => e.loadBackboneWeights(sd),
        (err: unknown) =>
          err instanceof StateDictError &&
          /^weights do not fit the resnet18 backbone: missing 1 key\(s\): layer1\.0\.bn1\.running_mean; unexpected 1 key\(s\): layer5\.weight$/.test(
            err.message,
          ),
      );
    });
    scope(() => {
      const r50 = new ResNet(50, { numClasses: null });
      assert.throws(() => e.loadBackboneWeights(r50.stateDict()), /wrong shape for .*conv1\.weight \(expected/);
      r50.dispose();
    });
    source.dispose();
    e.dispose();
  });

  test('rejects unknown architectures and bad dims with the accepted values', () => {
    assert.throws(
      () => createEmbedder({ arch: 'vgg16' as 'resnet18' }),
      new RegExp(`unknown architecture 'vgg16'; expected one of ${ARCHS.join(', ')}`),
    );
    assert.throws(
      () => createEmbedder({ arch: 'smallcnn', dim: 0 }),
      /embedding dim must be a positive integer, got 0/,
    );
  });

  test('exposes the input convention as data', () => {
    const e = createEmbedder({ arch: 'smallcnn' });
    assert.equal(e.input.channels, 1);
    e.dispose();
    assert.deepEqual(IMAGENET_INPUT.mean, [0.485, 0.456, 0.406]);
    // BGR 0-255 minus the Caffe mean: pixel byte p maps to p - mean
    const { scale, shift } = normalisationAffine(CAFFE_BGR_INPUT);
    assert.deepEqual(scale, [1, 1, 1]);
    assert.deepEqual(shift, [-104, -117, -128]);
    const im = normalisationAffine(IMAGENET_INPUT);
    assert.ok(Math.abs((im.scale[0] as number) * 255 + (im.shift[0] as number) - (1 - 0.485) / 0.229) < 1e-12);
  });
});
