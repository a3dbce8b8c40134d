import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TopK } from '../../src/eval/kernels.js';
import { knnInnerProduct, knnInnerProductSelf } from '../../src/eval/knn.js';
import type { Neighbors } from '../../src/eval/neighbors.js';
import { recallAtK } from '../../src/eval/recall.js';
import { memory, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { loadGoldenJson } from '../helpers/golden.js';

const golden = loadGoldenJson('eval-knn.json');
const g = (name: string) => golden.tensors[name] as Tensor;
const numbers = (t: Tensor) => t.toArray();

/** Indices equal, except that a swap between neighbours whose scores differ by < tol is accepted. */
function assertSameNeighbours(ours: Neighbors, indices: number[], scores: number[], tol = 1e-6): void {
  assert.equal(ours.indices.length, indices.length);
  for (let p = 0; p < indices.length; p++) {
    assert.ok(Math.abs((ours.keys[p] as number) - (scores[p] as number)) < 1e-5, `score ${p}`);
    if (ours.indices[p] !== indices[p]) {
      assert.ok(Math.abs((scores[p] as number) - (ours.keys[p] as number)) < tol, `index ${p}: a real disagreement`);
    }
  }
}

test('k-NN by inner product equals faiss IndexFlatIP (query vs gallery), for any tile size', () => {
  scope(() => {
    const k = golden.extra.k as number;
    for (const tileSize of [4096, 64, 7]) {
      const nb = knnInnerProduct(g('query'), g('gallery'), k, { tileSize });
      assert.equal(nb.n, 70);
      assert.equal(nb.k, k);
      assertSameNeighbours(nb, numbers(g('I')), numbers(g('D')));
      const recall = recallAtK(
        { neighbors: nb, queryLabels: numbers(g('query_labels')), galleryLabels: numbers(g('gallery_labels')) },
        golden.extra.ks as number[],
      );
      assert.deepEqual(recall, golden.extra.recall_pair);
    }
  });
});

test('self retrieval equals faiss with each query removed from its own list, for any tile size', () => {
  scope(() => {
    const k = golden.extra.k as number;
    for (const tileSize of [4096, 50, 13]) {
      const nb = knnInnerProductSelf(g('x'), k, { tileSize });
      assertSameNeighbours(nb, numbers(g('self_I')), numbers(g('self_D')));
      for (let i = 0; i < nb.n; i++) assert.ok(!nb.indices.subarray(i * k, (i + 1) * k).includes(i), `query ${i}`);
      const labels = numbers(g('labels'));
      const recall = recallAtK(
        { neighbors: nb, queryLabels: labels, galleryLabels: labels, excludeSelf: true },
        golden.extra.ks as number[],
      );
      assert.deepEqual(recall, golden.extra.recall_self);
    }
  });
});

test('equal scores come out in ascending gallery index, across tiles, and duplicates of a query are kept', () => {
  scope(() => {
    // Gallery: items 0, 2, 3, 5 equal to the query direction, others orthogonal or opposite.
    const e = [1, 0];
    const gallery = tensor([e, [0, 1], e, e, [-1, 0], e, [0, -1]]);
    for (const tileSize of [1, 2, 3, 4096]) {
      const nb = knnInnerProduct(tensor([e]), gallery, 6, { tileSize });
      assert.deepEqual([...nb.indices], [0, 2, 3, 5, 1, 6]);
      assert.deepEqual([...nb.keys], [1, 1, 1, 1, 0, 0]);
      // Self retrieval among the same rows: item 0's duplicates 2, 3, 5 come first, in order.
      const self = knnInnerProductSelf(gallery, 3, { tileSize });
      assert.deepEqual([...self.indices.subarray(0, 3)], [2, 3, 5]);
      assert.deepEqual([...self.indices.subarray(15, 18)], [0, 2, 3]);
    }
  });
});

test('k-NN validates its inputs and frees every tensor it creates', () => {
  scope(() => {
    const x = tensor([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    assert.throws(() => knnInnerProductSelf(x, 3), /k = 3 exceeds the 2 gallery items/);
    assert.throws(() => knnInnerProduct(x, tensor([[1, 0, 0]]), 1), /dimension 2, gallery embeddings 3/);
    assert.throws(() => knnInnerProduct(tensor([1, 2]), x, 1), /2-d/);
    assert.throws(() => knnInnerProduct(x, x, 0), /positive integer/);
    const x64 = x.to('float64');
    const before = memory().liveTensors;
    knnInnerProductSelf(x, 2, { tileSize: 1 });
    knnInnerProduct(x64, x, 2, { tileSize: 2 });
    assert.equal(memory().liveTensors, before);
  });
});

test('the selection kernels check their arguments in TypeScript: clear errors, never a native read out of range', () => {
  scope(() => {
    const top = new TopK(4, 2);
    const tile = tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
    assert.throws(
      () => top.mergeScores(tile, 3, 0, { excludeSelf: false, transposed: false }),
      /knnMergeScores\(\): rowStart = 3 is out of range \[0, 2\]/,
    );
    assert.throws(
      () => top.mergeScores(tile, 0.5, 0, { excludeSelf: false, transposed: false }),
      /rowStart must be an integer/,
    );
    assert.throws(
      () => top.mergeScores(tile, 0, Number.NaN, { excludeSelf: false, transposed: false }),
      /colStart must be an integer .* got NaN/,
    );
    assert.throws(
      () => top.mergeScores(tile, 0, 2 ** 31 - 2, { excludeSelf: false, transposed: false }),
      /colStart = 2147483646 is out of range \[0, 2147483644\]/,
    );
    assert.throws(
      () => top.mergeScores(tile.to('float64'), 0, 0, { excludeSelf: false, transposed: false }),
      /tile must be a 2-d float32 CPU tensor, got float64 \[2, 3\]/,
    );
    // Transposed, the tile's columns are query rows: 3 of them fit from row 1, not from row 2.
    top.mergeScores(tile, 1, 0, { excludeSelf: false, transposed: true });
    assert.throws(
      () => top.mergeScores(tile, 2, 0, { excludeSelf: false, transposed: true }),
      /rowStart = 2 is out of range \[0, 1\]/,
    );
    const codes = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: 'uint8' });
    assert.throws(
      () => top.mergeHamming(codes, codes.narrow(1, 0, 1).contiguous(), 0, 0, false),
      /codes differ in length \(2 and 1 bytes\)/,
    );
    assert.throws(
      () => top.mergeHamming(codes.to('int32'), codes, 0, 0, false),
      /queries must be a 2-d uint8 CPU tensor/,
    );
    assert.throws(() => new TopK(4, 0), /knnState\(\): k = 0 is out of range \[1, 16777216\]/);
    assert.throws(() => new TopK(2.5, 1), /n must be an integer/);
    const { ids } = top.finish(true);
    assert.deepEqual([...ids], [-1, -1, 1, 0, 1, 0, 1, 0]);
  });
});
