import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reindex, sampleClassSubset } from '../../src/loss/class-subset.js';
import { Rng } from '../../src/util/rng.js';

test('class subset: batch classes plus distinct negatives, labels re-indexed', () => {
  const rng = new Rng(3);
  const labels = [7, 3, 3, 19];
  const { classes, targets } = sampleClassSubset(labels, 20, 8, rng);
  assert.equal(classes.length, 8);
  assert.deepEqual(
    classes,
    [...new Set(classes)].sort((a, b) => a - b),
  );
  for (const c of classes) assert.ok(c >= 0 && c < 20);
  assert.deepEqual(
    targets.map((t) => classes[t]),
    labels,
  );
  assert.deepEqual(reindex([5, 1], [1, 5, 9]), [1, 0]);
});

test('class subset: negatives are uniform over the classes absent from the batch', () => {
  const rng = new Rng(12);
  const counts = new Array(20).fill(0);
  const draws = 20000;
  for (let i = 0; i < draws; i++) {
    for (const c of sampleClassSubset([3, 7, 3], 20, 6, rng).classes) counts[c]++;
  }
  assert.equal(counts[3], draws);
  assert.equal(counts[7], draws);
  for (let c = 0; c < 20; c++) {
    if (c === 3 || c === 7) continue;
    const freq = counts[c] / draws;
    assert.ok(Math.abs(freq - 4 / 18) < 0.02, `class ${c} drawn with frequency ${freq}, expected ${4 / 18}`);
  }
});

test('class subset: size at least C gives every class', () => {
  const { classes } = sampleClassSubset([2], 5, 5, new Rng(0));
  assert.deepEqual(classes, [0, 1, 2, 3, 4]);
});
