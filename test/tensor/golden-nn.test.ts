// Layers and losses against PyTorch: forward outputs and the gradients of every input and parameter
// (fixtures from tools/golden/engine.py; float32, so ~1e-5 relative tolerance).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { F, scope, type Tensor } from '../../src/tensor/index.js';
import { loadGoldenJson } from '../helpers/golden.js';
import { assertClose, type Tolerance } from './close.js';

const golden = loadGoldenJson('engine_nn.json');
const TOL: Tolerance = { rtol: 1e-5, atol: 1e-5 };

function g(key: string): Tensor {
  const t = golden.tensors[key];
  if (!t) throw new Error(`engine_nn.json has no tensor '${key}'; rerun tools/golden/engine.py`);
  return t;
}
function opt<T>(name: string): T {
  const o = golden.extra[name];
  if (!o) throw new Error(`engine_nn.json has no options for '${name}'`);
  return o as T;
}

/**
 * Runs forward on fresh leaves made from the fixture's inputs, compares the output, backpropagates the
 * fixture's upstream gradient and compares every gradient the fixture holds for this case.
 */
function checkCase(prefix: string, inputs: string[], forward: (x: Record<string, Tensor>) => Tensor, tol = TOL): void {
  scope(() => {
    const x: Record<string, Tensor> = {};
    for (const name of inputs) x[name] = g(`${prefix}.${name}`).clone().requiresGrad_(true);
    const out = forward(x);
    assertClose(out, g(`${prefix}.out`), tol, `${prefix} forward`);
    out.backward(golden.tensors[`${prefix}.gout`]);
    const expectedGrads = Object.keys(golden.tensors).filter((k) => k.startsWith(`${prefix}.grad_`));
    assert.ok(expectedGrads.length > 0, `${prefix}: the fixture holds no gradients`);
    for (const key of expectedGrads) {
      const name = key.slice(`${prefix}.grad_`.length);
      const grad = x[name]?.grad;
      assert.ok(grad, `${prefix}: no gradient for ${name}`);
      assertClose(grad, g(key), tol, `${prefix} d/d${name}`);
    }
  });
}

interface ConvOptions {
  stride: [number, number];
  padding: [number, number];
  groups: number;
}

describe('conv2d vs PyTorch', () => {
  test('stride 2, padding 1, with bias', () => {
    const o = opt<ConvOptions>('conv_bias');
    assert.deepEqual(o.stride, [2, 2]);
    checkCase('conv_bias', ['x', 'w', 'b'], ({ x, w, b }) => F.conv2d(x!, w!, b, o));
  });
  test('groups 2, asymmetric stride and padding, no bias', () => {
    const o = opt<ConvOptions>('conv_groups');
    assert.equal(o.groups, 2);
    checkCase('conv_groups', ['x', 'w'], ({ x, w }) => F.conv2d(x!, w!, null, o));
  });
});

describe('batch_norm vs PyTorch', () => {
  test('train mode: outputs, gradients and running statistics after two calls (momentum 0.1)', () => {
    scope(() => {
      const runningMean = g('bn_train.running_mean1').mul(0); // zeros, as PyTorch's buffers start
      const runningVar = runningMean.add(1);
      checkCase('bn_train', ['x1', 'x2', 'w', 'b'], ({ x1, x2, w, b }) => {
        const common = { weight: w, bias: b, runningMean, runningVar, training: true, momentum: 0.1, eps: 1e-5 };
        assertClose(F.batchNorm(x1!, common), g('bn_train.out1'), TOL, 'bn_train first output');
        assertClose(runningMean, g('bn_train.running_mean1'), TOL, 'running mean after call 1');
        assertClose(runningVar, g('bn_train.running_var1'), TOL, 'running var after call 1');
        return F.batchNorm(x2!, common);
      });
      assertClose(runningMean, g('bn_train.running_mean2'), TOL, 'running mean after call 2');
      assertClose(runningVar, g('bn_train.running_var2'), TOL, 'running var after call 2');
    });
  });
  test('train mode on [N, C] without affine', () => {
    scope(() => {
      const runningMean = g('bn_train_2d.running_mean').mul(0);
      const runningVar = runningMean.add(1);
      checkCase('bn_train_2d', ['x'], ({ x }) => F.batchNorm(x!, { runningMean, runningVar, training: true }));
      assertClose(runningMean, g('bn_train_2d.running_mean'), TOL, 'running mean');
      assertClose(runningVar, g('bn_train_2d.running_var'), TOL, 'running var');
    });
  });
  test('eval mode uses the running statistics and leaves them unchanged', () => {
    scope(() => {
      const runningMean = g('bn_eval.running_mean').clone();
      const runningVar = g('bn_eval.running_var').clone();
      checkCase('bn_eval', ['x', 'w', 'b'], ({ x, w, b }) =>
        F.batchNorm(x!, { weight: w, bias: b, runningMean, runningVar, training: false }),
      );
      assertClose(runningMean, g('bn_eval.running_mean'), { rtol: 0, atol: 0 }, 'running mean unchanged');
      assertClose(runningVar, g('bn_eval.running_var'), { rtol: 0, atol: 0 }, 'running var unchanged');
    });
  });
});

describe('layer_norm vs PyTorch', () => {
  test('with affine over the last dim', () => {
    checkCase('ln_affine', ['x', 'w', 'b'], ({ x, w, b }) => F.layerNorm(x!, [5], { weight: w, bias: b }));
  });
  test('without affine over the last two dims', () => {
    checkCase('ln_plain', ['x'], ({ x }) => F.layerNorm(x!, [4, 5]));
  });
});

describe('linear vs PyTorch', () => {
  test('with bias', () => {
    checkCase('linear', ['x', 'w', 'b'], ({ x, w, b }) => F.linear(x!, w!, b));
  });
  test('3-d input, no bias', () => {
    checkCase('linear_nobias', ['x', 'w'], ({ x, w }) => F.linear(x!, w!));
  });
});

describe('pooling vs PyTorch', () => {
  test('max_pool2d kernel 3, stride 2, padding 1 (ResNet stem)', () => {
    checkCase('maxpool', ['x'], ({ x }) => F.maxPool2d(x!, 3, { stride: 2, padding: 1 }));
  });
  test('adaptive_avg_pool2d to 1x1', () => {
    checkCase('avgpool_1x1', ['x'], ({ x }) => F.adaptiveAvgPool2d(x!, 1));
  });
  test('adaptive_avg_pool2d to 3x2 (uneven windows)', () => {
    checkCase('avgpool_3x2', ['x'], ({ x }) => F.adaptiveAvgPool2d(x!, [3, 2]));
  });
});

describe('cross_entropy vs PyTorch', () => {
  const cases: [string, string][] = [
    ['ce_mean', 'mean'],
    ['ce_sum', 'sum'],
    ['ce_mean_smooth', 'mean, label smoothing 0.1'],
    ['ce_sum_smooth', 'sum, label smoothing 0.2'],
  ];
  for (const [name, title] of cases) {
    test(title, () => {
      const o = opt<{ reduction: 'mean' | 'sum'; label_smoothing: number }>(name);
      checkCase(name, ['logits'], ({ logits }) =>
        F.crossEntropy(logits!, g('ce.target'), { reduction: o.reduction, labelSmoothing: o.label_smoothing }),
      );
    });
  }
});

describe('log_softmax and normalize vs PyTorch', () => {
  test('log_softmax over dim 1', () => {
    checkCase('log_softmax', ['x'], ({ x }) => F.logSoftmax(x!, 1));
  });
  test('normalize rows (p 2, dim 1)', () => {
    checkCase('normalize', ['x'], ({ x }) => F.normalize(x!));
  });
  test('normalize over dim 0 of a 3-d tensor', () => {
    checkCase('normalize_dim0', ['x'], ({ x }) => F.normalize(x!, { dim: 0 }));
  });
});
