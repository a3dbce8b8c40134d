// The search benchmark's pure helpers on hand-computed cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestQpsAtRecall, qpsTarget, recallAtK, rerankTarget, splitIds } from '../../bench/search/measures.js';

test('recallAtK: share of the true top-k returned, per query, averaged; lists cut to k; duplicates once', () => {
  const truth = [
    [1, 2, 3],
    [4, 5, 6],
  ];
  assert.equal(
    recallAtK(
      truth,
      [
        [3, 2, 1],
        [7, 8, 9],
      ],
      3,
    ),
    0.5,
  );
  assert.equal(
    recallAtK(
      truth,
      [
        [1, 1, 1],
        [6, 9, 4, 5],
      ],
      3,
    ),
    (1 + 2) / 6,
  );
  assert.equal(recallAtK([[1, 2]], [[2, 1, 3]], 1), 0);
  assert.throws(() => recallAtK(truth, [[1]], 3), RangeError);
});

test('splitIds: row-major ids per query, -1 (no result) dropped, bigint keys accepted', () => {
  assert.deepEqual(splitIds([1, 2, -1, 4, 5, 6], 2, 3), [
    [1, 2],
    [4, 5, 6],
  ]);
  assert.deepEqual(splitIds(BigInt64Array.from([7n, 8n]), 1, 2), [[7, 8]]);
});

test('bestQpsAtRecall and qpsTarget: the fastest point at the floor decides', () => {
  const ours = [
    { ef: 16, recallAt10: 0.95, queriesPerSecond: 9000 },
    { ef: 64, recallAt10: 0.991, queriesPerSecond: 4000 },
    { ef: 128, recallAt10: 0.998, queriesPerSecond: 2500 },
  ];
  const theirs = [
    { ef: 64, recallAt10: 0.989, queriesPerSecond: 5000 },
    { ef: 128, recallAt10: 0.995, queriesPerSecond: 3000 },
  ];
  assert.equal(bestQpsAtRecall(ours, 0.99)?.ef, 64);
  assert.equal(bestQpsAtRecall(ours, 0.999), null);
  assert.deepEqual(qpsTarget(ours, theirs, 0.99), { ours: ours[1], reference: theirs[1], status: 'met' });
  assert.equal(qpsTarget(ours.slice(2), theirs, 0.99).status, 'not met');
  assert.equal(qpsTarget(ours.slice(0, 1), theirs, 0.99).status, 'not reached');
  assert.equal(qpsTarget(ours, [], 0.99).status, 'met');
});

test('rerankTarget: the smallest m within the limit that reaches the floor', () => {
  const pts = [
    { m: 2, recallAt10: 0.9 },
    { m: 4, recallAt10: 0.981 },
    { m: 10, recallAt10: 0.995 },
  ];
  assert.deepEqual(rerankTarget(pts, 0.98, 10), { smallestM: 4, status: 'met' });
  assert.deepEqual(rerankTarget(pts, 0.99, 4), { smallestM: null, status: 'not met' });
});
