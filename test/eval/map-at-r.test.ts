import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapAtR, maxRelevant } from '../../src/eval/map-at-r.js';
import { neighborsFromRows } from '../../src/eval/neighbors.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('MAP@R and R-Precision on a hand-computed case', () => {
  // Gallery labels: class 0 x3, class 1 x2, class 2 x1.
  const galleryLabels = Int32Array.of(0, 0, 0, 1, 1, 2);
  // Query A (class 0, R = 3): neighbours 3, 0, 1 -> relevance 0 1 1
  //   AP = (1/3)(1/2 + 2/3) = 7/18, RP = 2/3.
  // Query B (class 1, R = 2): neighbours 4, 0 -> relevance 1 0: AP = (1/2)(1/1) = 1/2, RP = 1/2.
  // Query C (class 3, R = 0): left out.
  const neighbors = neighborsFromRows([
    [3, 0, 1, 2],
    [4, 0, 5, 3],
    [0, 1, 2, 3],
  ]);
  const r = mapAtR({ neighbors, queryLabels: Int32Array.of(0, 1, 3), galleryLabels });
  close(r.mapAtR, (7 / 18 + 1 / 2) / 2);
  close(r.rPrecision, (2 / 3 + 1 / 2) / 2);
  assert.equal(r.queries, 2);
});

test('MAP@R with query set = gallery: R and the neighbour list both leave the query out', () => {
  const labels = Int32Array.of(0, 0, 1, 0);
  // Item 0: R = 2 (items 1, 3); list [0 (self), 2, 1, 3] -> after self: 2, 1 -> rel 0 1: AP = (1/2)(1/2), RP = 1/2.
  // Item 1: R = 2; list [0, 3, 2] -> rel 1 1: AP = 1, RP = 1.
  // Item 2: R = 0: left out. Item 3: R = 2; list [2, 1, 0] -> rel 0 1: AP = 1/4, RP = 1/2.
  const neighbors = neighborsFromRows([
    [0, 2, 1, 3],
    [0, 3, 2, 1],
    [0, 1, 3, 2],
    [2, 1, 0, 3],
  ]);
  const r = mapAtR({ neighbors, queryLabels: labels, galleryLabels: labels, excludeSelf: true });
  close(r.mapAtR, (1 / 4 + 1 + 1 / 4) / 3);
  close(r.rPrecision, (1 / 2 + 1 + 1 / 2) / 3);
  assert.equal(maxRelevant(labels, labels, true), 2);
  assert.equal(maxRelevant(labels, labels, false), 3);
});

test('MAP@R refuses lists shorter than R', () => {
  const labels = Int32Array.of(0, 0, 0);
  assert.throws(
    () =>
      mapAtR({
        neighbors: neighborsFromRows([[1], [0], [0]]),
        queryLabels: labels,
        galleryLabels: labels,
        excludeSelf: true,
      }),
    /needs 2 neighbours/,
  );
});
