// Layers: PyTorch initialisation (distributions, seeding), BatchNorm train vs eval, LayerNorm, Sequential.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchNorm2d, Conv2d, LayerNorm, Linear, ReLU, ResNet, Sequential } from '../../src/nn/index.js';
import { Generator, manualSeed, noGrad, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { maxAbsDiff } from '../helpers/golden.js';

function stats(t: Tensor): { min: number; max: number; mean: number; std: number } {
  return scope(() => ({
    min: t.min().item(),
    max: t.max().item(),
    mean: t.mean().item(),
    std: t.std().item(),
  }));
}

describe('initialisation', () => {
  test('Linear: weight and bias U(+-1/sqrt(fan_in)) (kaiming_uniform a=sqrt(5))', () => {
    const lin = new Linear(400, 300);
    const bound = 1 / Math.sqrt(400);
    const w = stats(lin.weight);
    assert.ok(w.min >= -bound && w.max <= bound);
    assert.ok(w.max > 0.98 * bound && w.min < -0.98 * bound, 'uses the whole range');
    assert.ok(Math.abs(w.std - bound / Math.sqrt(3)) < 0.01 * bound, `std ${w.std}`);
    const b = stats(lin.bias as Tensor);
    assert.ok(b.min >= -bound && b.max <= bound && b.std > 0.4 * bound);
    lin.dispose();
  });

  test('Conv2d default: U(+-1/sqrt(in*kh*kw)); ResNet convs: N(0, 2/fan_out) (kaiming_normal_ fan_out relu)', () => {
    const conv = new Conv2d(16, 32, 3);
    const bound = 1 / Math.sqrt(16 * 9);
    const w = stats(conv.weight);
    assert.ok(w.min >= -bound && w.max <= bound && Math.abs(w.std - bound / Math.sqrt(3)) < 0.03 * bound);
    conv.dispose();
    const k = new Conv2d(64, 256, 3, { weightInit: 'kaimingFanOut', bias: false });
    const expected = Math.sqrt(2 / (256 * 9));
    const s = stats(k.weight);
    assert.ok(Math.abs(s.std - expected) < 0.01 * expected, `std ${s.std} vs ${expected}`);
    assert.ok(Math.abs(s.mean) < 0.01 * expected);
    assert.equal(k.bias, null);
    k.dispose();
  });

  test('ResNet: BatchNorm weight 1, bias 0, running stats 0/1; fc as Linear default', () => {
    const net = new ResNet(18);
    const sd = net.stateDict();
    assert.deepEqual(new Set(sd['layer2.1.bn2.weight']?.toArray()), new Set([1]));
    assert.deepEqual(new Set(sd['layer2.1.bn2.bias']?.toArray()), new Set([0]));
    assert.deepEqual(new Set(sd['bn1.running_var']?.toArray()), new Set([1]));
    const std = stats(sd['layer3.0.conv2.weight'] as Tensor).std;
    assert.ok(Math.abs(std - Math.sqrt(2 / (256 * 9))) < 0.02 * Math.sqrt(2 / (256 * 9)));
    const fc = stats(sd['fc.weight'] as Tensor);
    assert.ok(fc.max <= 1 / Math.sqrt(512) && fc.min >= -1 / Math.sqrt(512));
    net.dispose();
  });

  test('seeded: manualSeed repeats the global stream; an explicit Generator is independent of it', () => {
    manualSeed(5);
    const a = new Linear(8, 4);
    manualSeed(5);
    const b = new Linear(8, 4);
    assert.equal(maxAbsDiff(a.weight, b.weight), 0);
    assert.equal(maxAbsDiff(a.bias as Tensor, b.bias as Tensor), 0);
    const c = new Linear(8, 4, { generator: new Generator(9) });
    manualSeed(123);
    const d = new Linear(8, 4, { generator: new Generator(9) });
    assert.equal(maxAbsDiff(c.weight, d.weight), 0);
    assert.ok(maxAbsDiff(a.weight, c.weight) > 0);
    for (const m of [a, b, c, d]) m.dispose();
  });
});

describe('BatchNorm2d', () => {
  // Channel 0 holds 1, 2, 3, 4 (two images of 1x2 pixels), channel 1 holds 10, 10, 10, 14.
  const input = () =>
    tensor(
      [
        [[[1, 2]], [[10, 10]]],
        [[[3, 4]], [[10, 14]]],
      ],
      { shape: [2, 2, 1, 2] },
    );

  test('train mode: batch statistics, running stats updated with momentum 0.1 and unbiased variance', () => {
    const bn = new BatchNorm2d(2);
    scope(() => {
      const out = bn.forward(input());
      // channel 0: mean 2.5, biased var 1.25; channel 1: mean 11, biased var 3
      const e0 = [1, 2, 3, 4].map((v) => (v - 2.5) / Math.sqrt(1.25 + 1e-5));
      const e1 = [10, 10, 10, 14].map((v) => (v - 11) / Math.sqrt(3 + 1e-5));
      const expected = tensor([e0[0], e0[1], e1[0], e1[1], e0[2], e0[3], e1[2], e1[3]] as number[], {
        shape: [2, 2, 1, 2],
      });
      assert.ok(maxAbsDiff(out, expected) < 1e-5);
      // running_mean = 0.9 * 0 + 0.1 * mean; running_var = 0.9 * 1 + 0.1 * unbiased var (5/3, 4)
      assert.ok(maxAbsDiff(bn.runningMean, tensor([0.25, 1.1])) < 1e-6);
      assert.ok(maxAbsDiff(bn.runningVar, tensor([0.9 + 0.1 * (5 / 3), 0.9 + 0.4])) < 1e-6);
      assert.equal(bn.numBatchesTracked.item(), 1);
      bn.forward(input());
      assert.equal(bn.numBatchesTracked.item(), 2);
      assert.ok(maxAbsDiff(bn.runningMean, tensor([0.25 * 0.9 + 0.25, 1.1 * 0.9 + 1.1])) < 1e-6);
    });
    bn.dispose();
  });

  test('eval mode: running statistics and affine, no updates', () => {
    const bn = new BatchNorm2d(2);
    noGrad(() => {
      bn.runningMean.copy_(tensor([1, 10]));
      bn.runningVar.copy_(tensor([4, 16]));
      bn.weight?.copy_(tensor([2, 1]));
      bn.bias?.copy_(tensor([0.5, -1]));
    });
    bn.eval();
    scope(() => {
      const out = bn.forward(input());
      const f0 = (v: number) => ((v - 1) / Math.sqrt(4 + 1e-5)) * 2 + 0.5;
      const f1 = (v: number) => (v - 10) / Math.sqrt(16 + 1e-5) - 1;
      const expected = tensor([f0(1), f0(2), f1(10), f1(10), f0(3), f0(4), f1(10), f1(14)], { shape: [2, 2, 1, 2] });
      assert.ok(maxAbsDiff(out, expected) < 1e-5);
      assert.deepEqual(bn.runningMean.toArray(), [1, 10]);
      assert.equal(bn.numBatchesTracked.item(), 0);
    });
    bn.dispose();
  });

  test('rejects input with the wrong channel count, naming the shapes', () => {
    const bn = new BatchNorm2d(3);
    assert.throws(
      () => scope(() => bn.forward(input())),
      /BatchNorm2d\(3\): expected input \[N, 3, H, W\], got \[2, 2, 1, 2\]/,
    );
    bn.dispose();
  });
});

describe('LayerNorm and Sequential', () => {
  test('LayerNorm without affine has no parameters and normalises each row', () => {
    const ln = new LayerNorm(4, { elementwiseAffine: false });
    assert.deepEqual(Object.keys(ln.stateDict()), []);
    scope(() => {
      const out = ln.forward(tensor([[1, 2, 3, 4]]));
      const s = Math.sqrt(1.25 + 1e-5);
      assert.ok(maxAbsDiff(out, tensor([[-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]])) < 1e-6);
    });
    const affine = new LayerNorm([4]);
    assert.deepEqual(Object.keys(affine.stateDict()), ['weight', 'bias']);
    scope(() => {
      noGrad(() => affine.stateDict().weight?.fill_(2));
      const out = affine.forward(tensor([[1, 2, 3, 4]]));
      const s = Math.sqrt(1.25 + 1e-5);
      assert.ok(maxAbsDiff(out, tensor([[-3 / s, -1 / s, 1 / s, 3 / s]])) < 1e-6);
    });
    affine.dispose();
  });

  test('Sequential names children 0..n-1 and applies them in order without touching its input', () => {
    const seq = new Sequential(new Linear(2, 2, { bias: false }), new ReLU(true), new Linear(2, 1, { bias: false }));
    assert.deepEqual(Object.keys(seq.stateDict()), ['0.weight', '2.weight']);
    noGrad(() => {
      seq.stateDict()['0.weight']?.copy_(
        tensor([
          [1, 0],
          [0, -1],
        ]),
      );
      seq.stateDict()['2.weight']?.copy_(tensor([[1, 1]]));
    });
    scope(() => {
      const x = tensor([[3, 5]]);
      assert.deepEqual(seq.forward(x).toArray(), [3]);
      assert.deepEqual(x.toArray(), [3, 5]);
    });
    seq.dispose();
  });
});
