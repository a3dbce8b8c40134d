// channels_last memory: the same values and shapes in NHWC order, weights moved in place, forwards that
// agree with row-major ones, and the libtorch engine (which runs channels_last) agreeing with a
// row-major forward.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { embedBatch } from '../../src/embed/embed-batch.js';
import { libtorchEngine } from '../../src/embed/libtorch-engine.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { arange, Generator, noGrad, randn, scope, tensor } from '../../src/tensor/index.js';

test("contiguous('channels_last') keeps shape and values, with NHWC strides", () => {
  scope(() => {
    const x = arange(24).float().reshape(1, 3, 2, 4);
    const cl = x.contiguous('channels_last');
    assert.deepEqual(cl.shape, [1, 3, 2, 4]);
    assert.equal(cl.isChannelsLast(), true);
    assert.equal(cl.isContiguous(), false);
    assert.equal(x.isChannelsLast(), false);
    assert.deepEqual(cl.toArray(), x.toArray());
    // NHWC memory of x: channel varies fastest, so a permuted view of cl is row-major.
    assert.equal(cl.permute(0, 2, 3, 1).isContiguous(), true);
    assert.deepEqual(cl.contiguous().toArray(), x.toArray());
    assert.throws(() => arange(6).reshape(2, 3).contiguous('channels_last'), /needs a 4-d tensor, got 2-d/);
  });
});

test('setData swaps memory in place and refuses another shape or dtype', () => {
  scope(() => {
    const t = arange(4).float().reshape(1, 1, 2, 2);
    t.setData(arange(4).float().mul(2).reshape(1, 1, 2, 2));
    assert.deepEqual(t.toArray(), [0, 2, 4, 6]);
    assert.throws(
      () => t.setData(arange(4).float()),
      /setData: expected float32 \[1, 1, 2, 2\] on cpu, got float32 \[4\]/,
    );
    assert.throws(() => t.setData(arange(4).reshape(1, 1, 2, 2)), /got int64/);
  });
});

test('toMemoryFormat moves 4-d weights in place: same tensors, same state, forwards agree', () => {
  scope(() => {
    const model = createEmbedder({ arch: 'resnet18', dim: 16, generator: new Generator(3) });
    model.eval();
    const x = randn([2, 3, 64, 64], { generator: new Generator(4) });
    const params = model.parameters();
    const snapshot = new Map(Object.entries(model.stateDict()).map(([k, v]) => [k, v.toArray()]));
    const rowMajor = noGrad(() => embedBatch(model, x).toArray());
    assert.equal(model.memoryFormat, 'contiguous');

    model.toMemoryFormat('channels_last');
    assert.equal(model.memoryFormat, 'channels_last');
    assert.deepEqual(model.parameters(), params, 'the same tensor objects');
    const conv = model.stateDict()['backbone.conv1.weight'];
    assert.equal(conv?.isChannelsLast(), true);
    for (const [k, v] of Object.entries(model.stateDict())) assert.deepEqual(v.toArray(), snapshot.get(k), k);
    const nhwc = noGrad(() => embedBatch(model, x).toArray());
    for (let i = 0; i < rowMajor.length; i++) assert.ok(Math.abs((nhwc[i] as number) - (rowMajor[i] as number)) < 1e-5);

    model.toMemoryFormat('contiguous');
    assert.equal(model.memoryFormat, 'contiguous');
    assert.equal(model.stateDict()['backbone.conv1.weight']?.isContiguous(), true);
  });
});

test('the libtorch engine runs channels_last and agrees with a row-major forward', async () => {
  const x = scope(() => randn([3, 3, 48, 48], { generator: new Generator(5) }).toTypedArray() as Float32Array);
  const reference = createEmbedder({ arch: 'resnet18', dim: 8, generator: new Generator(6) });
  reference.eval();
  const expected = scope(() => noGrad(() => embedBatch(reference, tensor(x, { shape: [3, 3, 48, 48] })).toArray()));
  reference.dispose();
  const model = createEmbedder({ arch: 'resnet18', dim: 8, generator: new Generator(6) });
  const engine = libtorchEngine(model);
  try {
    assert.equal(model.memoryFormat, 'channels_last');
    const got = await engine.embed(x, [3, 3, 48, 48]);
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs((got[i] as number) - (expected[i] as number)) < 1e-5);
  } finally {
    engine.dispose();
  }
});

test('memoryFormat is judged past weights that are both layouts at once (one input channel)', () => {
  const model = createEmbedder({ arch: 'smallcnn', dim: 8, generator: new Generator(1) });
  try {
    const first = model.parameters().find((p) => p.rank === 4);
    assert.equal(first?.shape[1], 1, 'the first convolution has one input channel');
    assert.equal(first?.isChannelsLast() && first.isContiguous(), true);
    assert.equal(model.memoryFormat, 'contiguous');
    model.toMemoryFormat('channels_last');
    assert.equal(model.memoryFormat, 'channels_last');
  } finally {
    model.dispose();
  }
});
