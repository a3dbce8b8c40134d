import assert from 'node:assert/strict';
import { test } from 'node:test';
import { neighborsFromRows } from '../../src/eval/neighbors.js';
import { recallAtK } from '../../src/eval/recall.js';
import { DEFAULT_RECALL_KS, recallKs, recallKsForDataset } from '../../src/eval/recall-ks.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test("the reference's query/gallery vectors: R@1 = 50, R@2 = 100", () => {
  const r = recallAtK(
    {
      neighbors: neighborsFromRows([
        [0, 1],
        [2, 1],
      ]),
      queryLabels: [1, 2],
      galleryLabels: [2, 1, 2],
    },
    [1, 2],
  );
  assert.deepEqual(r, { '1': 50, '2': 100 });
});

test("the reference's self-retrieval vectors: the query's own index is skipped, R@1 = 0, R@2 = 66.67", () => {
  const neighbors = neighborsFromRows([
    [0, 1, 2],
    [1, 0, 2],
    [2, 1, 0],
  ]);
  const labels = [2, 1, 2];
  const r = recallAtK({ neighbors, queryLabels: labels, galleryLabels: labels, excludeSelf: true }, [1, 2]);
  assert.equal(r['1'], 0);
  close(r['2'] as number, 200 / 3);
  // Without exclusion every query finds itself first.
  assert.deepEqual(recallAtK({ neighbors, queryLabels: labels, galleryLabels: labels }, [1]), { '1': 100 });
});

test('equal but distinct label arrays are two sets: exclusion comes only from the flag', () => {
  const neighbors = neighborsFromRows([
    [0, 1],
    [1, 0],
  ]);
  const query = [3, 4];
  const gallery = [3, 4];
  assert.deepEqual(recallAtK({ neighbors, queryLabels: query, galleryLabels: gallery }, [1]), { '1': 100 });
  assert.deepEqual(recallAtK({ neighbors, queryLabels: query, galleryLabels: query, excludeSelf: true }, [1, 2]), {
    '1': 0,
    '2': 0,
  });
});

test('K beyond the stored neighbours counts what is there; bad K lists are refused', () => {
  const neighbors = neighborsFromRows([[1], [0]]);
  assert.deepEqual(recallAtK({ neighbors, queryLabels: [0, 1], galleryLabels: [0, 1] }, [1, 1000]), {
    '1': 0,
    '1000': 0,
  });
  assert.throws(() => recallAtK({ neighbors, queryLabels: [0, 1], galleryLabels: [1, 0] }, []), /empty/);
  assert.throws(() => recallAtK({ neighbors, queryLabels: [0, 1], galleryLabels: [1, 0] }, [0]), /positive integer/);
  assert.throws(() => recallAtK({ neighbors, queryLabels: [0], galleryLabels: [1, 0] }, [1]), /1 query labels for 2/);
});

test('each dataset has the K list of the spec', () => {
  assert.deepEqual(recallKsForDataset('sop'), [1, 10, 100, 1000]);
  assert.deepEqual(recallKsForDataset('cars'), [1, 2, 4, 8]);
  assert.deepEqual(recallKsForDataset('CUB-200-2011'), [1, 2, 4, 8]);
  assert.deepEqual(recallKsForDataset('cars196'), [1, 2, 4, 8]);
  assert.deepEqual(recallKsForDataset('Stanford_Online_Products'), [1, 10, 100, 1000]);
  assert.deepEqual(recallKsForDataset('In-Shop'), [1, 10, 20, 30, 40, 50]);
  assert.equal(recallKsForDataset('mnist'), null);
  assert.deepEqual(recallKs('mnist'), [...DEFAULT_RECALL_KS]);
  assert.deepEqual(recallKs(undefined), [1, 2, 4, 8]);
  assert.deepEqual(recallKs('inshop'), [1, 10, 20, 30, 40, 50]);
});
