// The row-block route of the Reality Check metrics (src/eval/retrieval-at-r.ts) against the k-NN route:
// the same numbers on the golden data, on ties (exact duplicates across classes, -0 and +0) and across
// block boundaries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type RealityCheckMetrics, realityCheck, realityCheckMetrics } from '../../src/eval/reality-check.js';
import { retrievalAtRSelf } from '../../src/eval/retrieval-at-r.js';
import { randn, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { loadGoldenJson } from '../helpers/golden.js';

const KEYS = ['precisionAt1', 'rPrecision', 'mapAtR'] as const;

function assertSame(a: RealityCheckMetrics, b: RealityCheckMetrics, what: string): void {
  for (const key of KEYS) assert.ok(Math.abs(a[key] - b[key]) < 1e-9, `${what} ${key}: ${a[key]} vs ${b[key]}`);
}

test("row blocks give the golden data's metrics (pytorch-metric-learning's definitions), separated and concatenated", () => {
  const golden = loadGoldenJson('eval-reality-check.json');
  const extra = golden.extra as { models: RealityCheckMetrics[]; concatenated: RealityCheckMetrics };
  const models = [0, 1, 2].map((i) => golden.tensors[`model${i}`] as Tensor);
  const r = realityCheck(models, golden.tensors.labels as Tensor, { search: 'rows' });
  for (const [i, m] of r.models.entries()) assertSame(m, extra.models[i] as RealityCheckMetrics, `model ${i}`);
  assertSame(r.concatenated as RealityCheckMetrics, extra.concatenated, 'concatenated');
  for (const t of Object.values(golden.tensors)) t.dispose();
});

test('ties are broken by index as the k-NN search breaks them (duplicates across classes, -0 and +0)', () => {
  scope(() => {
    // Rows 0-3 identical (classes A B A B), 4-5 identical (B A), 6-7 give scores of -0 and +0 with 4-5.
    const x = tensor([1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, -1, 0, 1, -0], { shape: [8, 2], dtype: 'float32' });
    const labels = [0, 1, 0, 1, 1, 0, 1, 0];
    const knn = realityCheckMetrics(x, labels, { search: 'knn' });
    const rows = realityCheckMetrics(x, labels, { search: 'rows' });
    assertSame(rows, knn, 'ties');
    // Row 1 (B, R = 3) has 0 A, 2 A, 3 B at score 1: in index order AP = (1/3)/3, reversed it would be 1/3.
    const one = retrievalAtRSelf(x, Int32Array.from(labels), { blockRows: 1 });
    assert.equal(one.queries, 8);
    assert.ok(Math.abs(100 * one.mapAtR - knn.mapAtR) < 1e-9);
  });
});

test('any block size gives the k-NN route’s numbers', () => {
  scope(() => {
    const x = randn([203, 5]);
    const labels = Int32Array.from({ length: 203 }, (_, i) => (i * 7) % 9);
    const knn = realityCheckMetrics(x, labels, { search: 'knn' });
    for (const blockRows of [1, 7, 64, 203, 500]) {
      const m = retrievalAtRSelf(x, labels, { blockRows });
      assertSame(
        { precisionAt1: 100 * m.precisionAt1, rPrecision: 100 * m.rPrecision, mapAtR: 100 * m.mapAtR },
        knn,
        `block ${blockRows}`,
      );
    }
  });
});
