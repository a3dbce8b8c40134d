import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meanInterval, t975 } from '../../src/eval/confidence-interval.js';
import { neighborsFromRows } from '../../src/eval/neighbors.js';
import { precisionAt1 } from '../../src/eval/precision-at-1.js';
import { concatenateEmbeddings, realityCheck, realityCheckMetrics } from '../../src/eval/reality-check.js';
import { foldWarnings } from '../../src/eval/reality-check-folds.js';
import { memory, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { loadGoldenJson } from '../helpers/golden.js';

const close = (a: number, b: number, tol = 1e-9, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** Unit vectors at these angles (degrees): cosine similarity falls with the angle between them. */
function circle(degrees: number[]): Tensor {
  const rad = degrees.map((d) => (d * Math.PI) / 180);
  return tensor(
    rad.flatMap((r) => [Math.cos(r), Math.sin(r)]),
    { shape: [degrees.length, 2], dtype: 'float32' },
  );
}

test('Precision@1, R-Precision and MAP@R on a hand-computed case (a lone query is left out)', () => {
  scope(() => {
    // Angles 0 10 22 35 90 200, classes A A B A B C. Nearest first (self excluded):
    //   0 (A, R=2): 1 A, 2 B        P@1 1, RP 1/2, AP (1/1)/2 = 1/2
    //   1 (A, R=2): 0 A, 2 B        P@1 1, RP 1/2, AP 1/2
    //   2 (B, R=1): 1 A             0, 0, 0
    //   3 (A, R=2): 2 B, 1 A        P@1 0, RP 1/2, AP (1/2)/2 = 1/4
    //   4 (B, R=1): 3 A             0, 0, 0
    //   5 (C, R=0): lone, left out (Recall@1 would count it as a miss)
    const m = realityCheckMetrics(circle([0, 10, 22, 35, 90, 200]), [0, 0, 1, 0, 1, 2]);
    close(m.precisionAt1, 40, 1e-9, 'P@1 = 2/5');
    close(m.rPrecision, 30, 1e-9, 'RP = 1.5/5');
    close(m.mapAtR, 25, 1e-9, 'MAP@R = 1.25/5');
    assert.equal(m.queries, 5);
  });
});

test('Precision@1 skips the query itself and queries without another item of their class', () => {
  const labels = Int32Array.of(0, 0, 1, 2);
  const nb = neighborsFromRows([
    [0, 2, 1],
    [1, 0, 2],
    [0, 1, 3],
    [0, 1, 2],
  ]);
  // Query 0: self skipped, first is 2 (class 1): miss. Query 1: self skipped, 0: hit. Queries 2, 3: lone.
  const p = precisionAt1(nb, labels, labels, true);
  assert.equal(p.queries, 2);
  close(p.precision, 1 / 2);
});

test("the metrics equal pytorch-metric-learning's definitions on faiss neighbours (golden), separated and concatenated", () => {
  const golden = loadGoldenJson('eval-reality-check.json');
  const extra = golden.extra as {
    models: Record<string, number>[];
    separated: Record<string, { mean: number; ci95: number }>;
    concatenated: Record<string, number>;
  };
  const models = [0, 1, 2].map((i) => golden.tensors[`model${i}`] as Tensor);
  const labels = golden.tensors.labels as Tensor;
  const r = realityCheck(models, labels);
  assert.equal(r.queries, extra.models[0]?.queries, 'the lone query is left out');
  for (const key of ['precisionAt1', 'rPrecision', 'mapAtR'] as const) {
    for (const [i, m] of r.models.entries()) close(m[key], extra.models[i]?.[key] as number, 1e-9, `model ${i} ${key}`);
    close(r.separated?.[key].mean as number, extra.separated[key]?.mean as number, 1e-9, `separated mean ${key}`);
    close(r.separated?.[key].ci95 as number, extra.separated[key]?.ci95 as number, 1e-5, `separated ci95 ${key}`);
    close(r.concatenated?.[key] as number, extra.concatenated[key] as number, 1e-9, `concatenated ${key}`);
  }
  for (const t of [...models, labels]) t.dispose();
});

test("concatenating a model with itself gives the model's own metrics (and a zero-width interval)", () => {
  const golden = loadGoldenJson('eval-reality-check.json');
  const m = golden.tensors.model1 as Tensor;
  const labels = golden.tensors.labels as Tensor;
  const before = memory().liveTensors;
  const r = realityCheck([m, m, m], labels);
  assert.equal(memory().liveTensors, before, 'no tensor left behind');
  for (const key of ['precisionAt1', 'rPrecision', 'mapAtR'] as const) {
    close(r.concatenated?.[key] as number, r.models[0]?.[key] as number, 1e-9, key);
    close(r.separated?.[key].mean as number, r.models[0]?.[key] as number, 1e-9, key);
    assert.equal(r.separated?.[key].ci95, 0);
  }
  const joined = concatenateEmbeddings([m, m]);
  assert.deepEqual(joined.shape, [m.size(0), 2 * m.size(1)]);
  joined.dispose();
  for (const t of Object.values(golden.tensors)) t.dispose();
});

test('one model: its three metrics, no separated or concatenated entry', () => {
  scope(() => {
    const r = realityCheck([circle([0, 10, 22, 35, 90])], [0, 0, 1, 0, 1]);
    assert.equal(r.models.length, 1);
    assert.equal(r.separated, undefined);
    assert.equal(r.concatenated, undefined);
    close(r.models[0]?.mapAtR as number, 25);
  });
});

test("Student's t quantile and the 95% interval match scipy", () => {
  const golden = loadGoldenJson('eval-reality-check.json');
  const expected = golden.extra.t975 as Record<string, number>;
  for (const [df, t] of Object.entries(expected)) close(t975(Number(df)), t, 2e-6, `t(0.975, ${df})`);
  // [1, 2, 3]: mean 2, s = 1, half-width t(0.975, 2) / sqrt(3).
  const m = meanInterval([1, 2, 3]);
  close(m.mean, 2);
  close(m.ci95 as number, 4.302652729911275 / Math.sqrt(3), 1e-6);
  assert.deepEqual(meanInterval([5]), { mean: 5, ci95: null });
  for (const t of Object.values(golden.tensors)) t.dispose();
});

test('fold warnings: distinct folds of one split pass; repeats, mixed splits, missing folds and bare files are named', () => {
  const ckpt = (source: string, folds: number, fold: number, dataset = 'cub') => ({
    source,
    config: { dataset, folds, fold },
  });
  assert.deepEqual(foldWarnings([ckpt('a', 2, 0), ckpt('b', 2, 1)], 'cub'), []);
  assert.deepEqual(foldWarnings([ckpt('a', 4, 2)], 'cub'), [], 'one model: nothing to compare');
  assert.deepEqual(foldWarnings([ckpt('a', 2, 0), ckpt('b', 2, 0)]), ['b and a were both trained for fold 0']);
  assert.match(foldWarnings([ckpt('a', 2, 0), ckpt('b', 4, 1)]).join('\n'), /different fold splits/);
  assert.match(foldWarnings([ckpt('a', 2, 0), ckpt('b', 2, 1, 'sop')]).join('\n'), /different fold splits/);
  assert.deepEqual(foldWarnings([ckpt('a', 4, 0), ckpt('b', 4, 3)]), [
    'no model of fold 1, 2 of 4: the protocol uses one model per fold',
  ]);
  assert.match(
    foldWarnings([ckpt('a', 2, 0), { source: 'w.pth', config: null }]).join('\n'),
    /w\.pth: not a normsoftmax/,
  );
  assert.match(foldWarnings([ckpt('a', 2, 0), ckpt('b', 0, 0)]).join('\n'), /b: not trained on a fold/);
  assert.match(
    foldWarnings([ckpt('a', 2, 0, 'sop'), ckpt('b', 2, 1, 'sop')], 'cub').join('\n'),
    /a: trained on sop, evaluated on cub/,
  );
});
