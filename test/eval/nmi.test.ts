import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizedMutualInfo } from '../../src/eval/nmi.js';
import { scope, type Tensor } from '../../src/tensor/index.js';
import { loadGoldenJson } from '../helpers/golden.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test('NMI equals sklearn, geometric (default) and arithmetic', () => {
  scope(() => {
    const { tensors, extra } = loadGoldenJson('eval-nmi.json');
    const pairs = extra.pairs as { geometric: number; arithmetic: number };
    const a = tensors.a as Tensor;
    const b = tensors.b as Tensor;
    close(normalizedMutualInfo(a, b), pairs.geometric);
    close(normalizedMutualInfo(a, b, 'arithmetic'), pairs.arithmetic);
    const kmeans = extra.faiss_kmeans as { geometric: number };
    close(normalizedMutualInfo(tensors.labels as Tensor, tensors.faiss_clusters as Tensor), kmeans.geometric);
  });
});

test('NMI is invariant to renaming labels and symmetric', () => {
  const a = [0, 0, 1, 1, 2, 2, 2, 0];
  const b = [1, 1, 0, 2, 2, 2, 0, 1];
  const renamed = a.map((v) => [17, -3, 5][v] as number);
  close(normalizedMutualInfo(a, b), normalizedMutualInfo(renamed, b));
  close(normalizedMutualInfo(a, b), normalizedMutualInfo(b, a));
  assert.ok(normalizedMutualInfo(a, b) > 0.1 && normalizedMutualInfo(a, b) < 0.9);
});

test('NMI is 1 on a perfect clustering and 0 on an independent one; sklearn edge cases', () => {
  close(normalizedMutualInfo([0, 0, 1, 1, 2, 2], [5, 5, 9, 9, 7, 7]), 1);
  close(normalizedMutualInfo([0, 0, 1, 1], [0, 1, 0, 1]), 0);
  assert.equal(normalizedMutualInfo([3, 3, 3], [1, 1, 1]), 1);
  assert.equal(normalizedMutualInfo([3, 3, 3], [1, 2, 1]), 0);
  // Hand case: a = [0,0,1,1], b = [0,0,0,1]: MI = H(b) - H(b|a) = H(1/4) - (1/2) ln 2.
  const hb = -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75));
  const mi = hb - 0.5 * Math.log(2);
  close(normalizedMutualInfo([0, 0, 1, 1], [0, 0, 0, 1]), mi / Math.sqrt(Math.log(2) * hb));
  close(normalizedMutualInfo([0, 0, 1, 1], [0, 0, 0, 1], 'arithmetic'), mi / ((Math.log(2) + hb) / 2));
  assert.throws(() => normalizedMutualInfo([0, 1], [0]), /different lengths/);
  assert.throws(() => normalizedMutualInfo([0.5, 1], [0, 1]), /not an integer/);
});
