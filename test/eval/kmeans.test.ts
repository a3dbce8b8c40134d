import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kmeans } from '../../src/eval/kmeans.js';
import { normalizedMutualInfo } from '../../src/eval/nmi.js';
import { Generator, memory, randn, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { loadGoldenJson } from '../helpers/golden.js';

test('k-means on a hand case: two pairs of points, inertia 4 * 0.05^2', () => {
  scope(() => {
    const r = kmeans(tensor([[0], [10], [0.1], [10.1]]), 2, { restarts: 3 });
    assert.equal(r.assignments[0], r.assignments[2]);
    assert.equal(r.assignments[1], r.assignments[3]);
    assert.notEqual(r.assignments[0], r.assignments[1]);
    assert.ok(Math.abs(r.inertia - 0.01) < 1e-5, `${r.inertia}`);
  });
});

test('k-means recovers well separated clusters (NMI 1) with either initialisation', () => {
  scope(() => {
    const generator = new Generator(1);
    const centres = randn([6, 8], { generator }).mul(10);
    const labels = Array.from({ length: 120 }, (_, i) => i % 6);
    const x = centres.indexSelect(0, tensor(labels, { dtype: 'int64' })).add(randn([120, 8], { generator }).mul(0.1));
    for (const init of ['kmeans++', 'random'] as const) {
      const r = kmeans(x, 6, { seed: 3, init, restarts: 10 });
      assert.ok(Math.abs(normalizedMutualInfo(labels, r.assignments) - 1) < 1e-12, init);
    }
  });
});

test('k-means is seeded: the same seed gives the same clusters, converges early, frees its tensors', () => {
  scope(() => {
    const x = randn([200, 5], { generator: new Generator(2) });
    const before = memory().liveTensors;
    const a = kmeans(x, 7, { seed: 11, restarts: 2 });
    const b = kmeans(x, 7, { seed: 11, restarts: 2 });
    assert.deepEqual(a.assignments, b.assignments);
    assert.equal(a.inertia, b.inertia);
    assert.ok(a.iterations < 300, `${a.iterations} iterations`);
    assert.equal(memory().liveTensors, before);
  });
});

test('NMI of our k-means is within 0.01 of faiss k-means (300 iterations, 10 restarts) scored by sklearn', () => {
  scope(() => {
    const { tensors, extra } = loadGoldenJson('eval-nmi.json');
    const faiss = extra.faiss_kmeans as { geometric: number; objective: number };
    const labels = tensors.labels as Tensor;
    const r = kmeans(tensors.x as Tensor, 8, { seed: 0, iterations: 300, restarts: 10 });
    const ours = normalizedMutualInfo(labels, r.assignments);
    assert.ok(Math.abs(ours - faiss.geometric) < 0.01, `ours ${ours}, faiss ${faiss.geometric}`);
    assert.ok(r.inertia <= faiss.objective * 1.001, `inertia ${r.inertia} vs faiss ${faiss.objective}`);
  });
});

test('k-means validates its arguments', () => {
  scope(() => {
    const x = randn([3, 2], { generator: new Generator(3) });
    assert.throws(() => kmeans(x, 4), /k = 4 exceeds the 3 points/);
    assert.throws(() => kmeans(x, 2, { iterations: 0 }), /iterations must be a positive integer/);
    assert.throws(() => kmeans(x, 2, { init: 'best' as 'random' }), /init must be/);
  });
});
