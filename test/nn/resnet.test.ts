// ResNet against torchvision: state_dict layout for every depth, and single residual blocks (weights,
// eval and train outputs, running statistics, gradients) from tools/golden/nn.py.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BasicBlock, BatchNorm2d, Bottleneck, Conv2d, type Module, ResNet, Sequential } from '../../src/nn/index.js';
import { randn, scope, type Tensor } from '../../src/tensor/index.js';
import { loadGoldenJson, maxAbsDiff } from '../helpers/golden.js';

const TOL = 2e-5;

describe('ResNet layout', () => {
  const layout = loadGoldenJson('nn_resnet_keys.json').extra as Record<string, [string, number[], string][]>;
  for (const depth of [18, 34, 50, 101] as const) {
    test(`resnet${depth}: keys, order, shapes and dtypes equal torchvision's state_dict`, () => {
      const net = new ResNet(depth);
      const ours = scope(() => Object.entries(net.stateDict()).map(([k, t]) => [k, [...t.shape], t.dtype]));
      assert.deepEqual(ours, layout[`resnet${depth}`]);
      net.dispose();
    });
  }

  test('without a head there are no fc keys; features are 512-d (basic) or 2048-d (bottleneck)', () => {
    const net = new ResNet(18, { numClasses: null });
    assert.equal(net.width, 512);
    assert.ok(Object.keys(net.stateDict()).every((k) => !k.startsWith('fc.')));
    scope(() => {
      const x = randn([2, 3, 32, 32]);
      assert.deepEqual(net.features(x).shape, [2, 512]);
      assert.deepEqual(net.featureMap(x).shape, [2, 512, 1, 1]);
      assert.deepEqual(net.forward(x).shape, [2, 512]);
    });
    net.dispose();
    const withHead = new ResNet(18, { numClasses: 10 });
    scope(() => assert.deepEqual(withHead.forward(randn([2, 3, 32, 32])).shape, [2, 10]));
    withHead.dispose();
    const r50 = new ResNet(50, { numClasses: null });
    assert.equal(r50.width, 2048);
    r50.dispose();
  });

  test('rejects images with the wrong channel count', () => {
    const net = new ResNet(18, { numClasses: null });
    assert.throws(
      () => scope(() => net.features(randn([1, 1, 32, 32]))),
      /ResNet: expected images \[N, 3, H, W\], got \[1, 1, 32, 32\]/,
    );
    net.dispose();
  });
});

describe('residual blocks vs torchvision', () => {
  const golden = loadGoldenJson('nn_blocks.json');
  const g = (key: string): Tensor => {
    const t = golden.tensors[key];
    if (!t) throw new Error(`nn_blocks.json has no '${key}'; rerun tools/golden/nn.py`);
    return t;
  };
  const sdOf = (prefix: string): Record<string, Tensor> => {
    const sd: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(golden.tensors))
      if (k.startsWith(`${prefix}.sd.`)) sd[k.slice(prefix.length + 4)] = v;
    return sd;
  };
  const cases: [string, (i: number, p: number, s: number, d: Sequential) => Module & { forward(x: Tensor): Tensor }][] =
    [
      ['bottleneck', (i, p, stride, downsample) => new Bottleneck(i, p, { stride, downsample })],
      ['basic', (i, p, stride, downsample) => new BasicBlock(i, p, { stride, downsample })],
    ];
  for (const [name, make] of cases) {
    const { inplanes, planes, stride } = golden.extra[name] as { inplanes: number; planes: number; stride: number };
    const out = name === 'bottleneck' ? planes * 4 : planes;
    const build = () => {
      const ds = new Sequential(new Conv2d(inplanes, out, 1, { stride, bias: false }), new BatchNorm2d(out));
      const block = make(inplanes, planes, stride, ds);
      block.loadStateDict(sdOf(name));
      return block;
    };

    test(`${name}: eval-mode output equals PyTorch's`, () => {
      const block = build().eval();
      scope(() => {
        const d = maxAbsDiff(block.forward(g(`${name}.x`)), g(`${name}.eval_out`));
        assert.ok(d < TOL, `max abs diff ${d}`);
      });
      block.dispose();
    });

    test(`${name}: train-mode output, running statistics and gradients equal PyTorch's`, () => {
      const block = build().train();
      scope(() => {
        const x = g(`${name}.x`).clone().requiresGrad_(true);
        const y = block.forward(x);
        assert.ok(maxAbsDiff(y, g(`${name}.train_out`)) < TOL);
        y.backward(g(`${name}.gout`));
        assert.ok(maxAbsDiff(x.grad as Tensor, g(`${name}.grad_x`)) < 1e-4);
        const params = Object.fromEntries(block.namedParameters());
        for (const key of ['conv1.weight', 'bn1.weight', 'downsample.0.weight']) {
          const d = maxAbsDiff(params[key]?.grad as Tensor, g(`${name}.grad_${key}`));
          assert.ok(d < 1e-4, `${key} gradient differs by ${d}`);
        }
        const state = block.stateDict();
        for (const [k, v] of Object.entries(golden.tensors)) {
          if (!k.startsWith(`${name}.after.`)) continue;
          const key = k.slice(`${name}.after.`.length);
          assert.ok(maxAbsDiff(state[key] as Tensor, v) < 1e-5, `${key} after the train pass`);
        }
      });
      block.dispose();
    });
  }
});
