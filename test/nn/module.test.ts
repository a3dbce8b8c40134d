// Module base: registration and naming, train/eval, stateDict aliases, loadStateDict's checks and errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchNorm2d, Conv2d, Linear, Module, ReLU, Sequential, StateDictError } from '../../src/nn/index.js';
import { arange, ones, scope, type Tensor, zeros } from '../../src/tensor/index.js';

class Net extends Module {
  readonly features = this.registerModule(
    'features',
    new Sequential(new Conv2d(2, 3, 3), new BatchNorm2d(3), new ReLU()),
  );
  readonly head = this.registerModule('head', new Linear(3, 4));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x).mean([2, 3]));
  }
}

const EXPECTED_KEYS = [
  'features.0.weight',
  'features.0.bias',
  'features.1.weight',
  'features.1.bias',
  'features.1.running_mean',
  'features.1.running_var',
  'features.1.num_batches_tracked',
  'head.weight',
  'head.bias',
];

describe('Module', () => {
  test('names parameters and buffers as PyTorch, in state_dict order', () => {
    const net = new Net();
    assert.deepEqual(Object.keys(net.stateDict()), EXPECTED_KEYS);
    assert.deepEqual(
      net.namedParameters().map(([k]) => k),
      EXPECTED_KEYS.filter((k) => !k.includes('running') && !k.includes('num_batches')),
    );
    assert.deepEqual(
      net.namedBuffers().map(([k]) => k),
      ['features.1.running_mean', 'features.1.running_var', 'features.1.num_batches_tracked'],
    );
    assert.equal(net.stateDict()['features.1.num_batches_tracked']?.dtype, 'int64');
    assert.deepEqual(net.stateDict()['features.1.num_batches_tracked']?.shape, []);
    assert.equal(net.numParameters(), 3 * 2 * 9 + 3 + 3 + 3 + 12 + 4);
    assert.deepEqual(
      net.namedChildren().map(([k]) => k),
      ['features', 'head'],
    );
    net.dispose();
  });

  test('parameters are trainable leaves that outlive scopes', () => {
    const net = scope(() => new Net());
    for (const p of net.parameters()) {
      assert.equal(p.isDisposed, false);
      assert.equal(p.requiresGrad, true);
      assert.equal(p.isLeaf, true);
    }
    for (const [, b] of net.namedBuffers()) assert.equal(b.requiresGrad, false);
    net.dispose();
    assert.ok(net.parameters().every((p) => p.isDisposed));
  });

  test('train()/eval() propagate to every module', () => {
    const net = new Net();
    assert.ok(net.namedModules().every(([, m]) => m.training));
    net.eval();
    assert.ok(net.namedModules().every(([, m]) => !m.training));
    net.train();
    assert.ok(net.namedModules().every(([, m]) => m.training));
    net.dispose();
  });

  test('stateDict() returns detached aliases: disposing them leaves the module intact, they see updates', () => {
    const net = new Net();
    const sd = scope(() => {
      const inner = net.stateDict();
      for (const t of Object.values(inner)) assert.equal(t.requiresGrad, false);
      return inner['head.bias'] as Tensor;
    });
    net.stateDict()['head.bias']?.fill_(0.5);
    assert.deepEqual(sd.toArray(), [0.5, 0.5, 0.5, 0.5]);
    assert.equal(
      net.parameters().some((p) => p.isDisposed),
      false,
    );
    net.dispose();
  });

  test('loadStateDict copies values in, converting dtype', () => {
    const a = new Net();
    const b = new Net();
    scope(() => {
      const sd = a.stateDict();
      sd['head.weight'] = arange(12).reshape(4, 3).to('float64');
      b.loadStateDict(sd);
      assert.deepEqual(b.stateDict()['head.weight']?.toArray(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      assert.equal(b.stateDict()['head.weight']?.dtype, 'float32');
      assert.deepEqual(b.stateDict()['features.0.weight']?.toArray(), sd['features.0.weight']?.toArray());
      // still the same trainable leaves
      assert.ok(b.parameters().every((p) => p.requiresGrad && p.isLeaf));
    });
    a.dispose();
    b.dispose();
  });

  test('strict loadStateDict throws one error listing missing, unexpected and mis-shaped keys, and loads nothing', () => {
    const net = new Net();
    scope(() => {
      const sd = net.stateDict();
      delete sd['head.bias'];
      delete sd['features.1.running_var'];
      sd['head.extra'] = zeros([2]);
      sd['features.0.weight'] = zeros([3, 2, 5, 5]);
      sd['features.1.weight'] = ones([3]).mul(7);
      const before = net.stateDict()['features.1.weight']?.toArray();
      assert.throws(
        () => net.loadStateDict(sd),
        (e: unknown) => {
          assert.ok(e instanceof StateDictError);
          assert.deepEqual(e.missing, ['features.1.running_var', 'head.bias']);
          assert.deepEqual(e.unexpected, ['head.extra']);
          assert.deepEqual(e.mismatched, [{ key: 'features.0.weight', expected: [3, 2, 3, 3], got: [3, 2, 5, 5] }]);
          assert.equal(e.message.includes('\n'), false);
          assert.match(e.message, /missing 2 key\(s\): features\.1\.running_var, head\.bias/);
          assert.match(e.message, /unexpected 1 key\(s\): head\.extra/);
          assert.match(e.message, /features\.0\.weight \(expected \[3, 2, 3, 3\], got \[3, 2, 5, 5\]\)/);
          return true;
        },
      );
      assert.deepEqual(net.stateDict()['features.1.weight']?.toArray(), before);
    });
    net.dispose();
  });

  test('non-strict loadStateDict loads what fits and returns the rest', () => {
    const net = new Net();
    scope(() => {
      const sd = net.stateDict();
      delete sd['head.bias'];
      sd['head.extra'] = zeros([2]);
      sd['features.0.bias'] = zeros([4]);
      sd['features.1.weight'] = ones([3]).mul(7);
      const report = net.loadStateDict(sd, { strict: false });
      assert.deepEqual(report.missing, ['head.bias']);
      assert.deepEqual(report.unexpected, ['head.extra']);
      assert.deepEqual(
        report.mismatched.map((m) => m.key),
        ['features.0.bias'],
      );
      assert.deepEqual(net.stateDict()['features.1.weight']?.toArray(), [7, 7, 7]);
    });
    net.dispose();
  });

  test('a missing num_batches_tracked (pre-0.4.1 checkpoints) is tolerated', () => {
    const net = new Net();
    scope(() => {
      const sd = net.stateDict();
      delete sd['features.1.num_batches_tracked'];
      const report = net.loadStateDict(sd);
      assert.deepEqual(report.missing, []);
    });
    net.dispose();
  });

  test("to('cpu') keeps parameters as trainable leaves with the same values", () => {
    const net = new Net();
    const before = net.stateDict()['head.weight']?.toArray();
    net.to('cpu');
    assert.deepEqual(net.stateDict()['head.weight']?.toArray(), before);
    assert.ok(net.parameters().every((p) => p.requiresGrad && p.isLeaf && p.device === 'cpu'));
    net.dispose();
  });

  test('zeroGrad clears gradients', () => {
    const net = new Net();
    scope(() => {
      net
        .forward(ones([1, 2, 5, 5]))
        .sum()
        .backward();
      assert.ok(net.parameters().every((p) => p.grad !== null));
      net.zeroGrad();
      assert.ok(net.parameters().every((p) => p.grad === null));
    });
    net.dispose();
  });
});
