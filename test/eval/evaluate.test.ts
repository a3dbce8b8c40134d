import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, runEvaluation } from '../../src/eval/evaluate.js';
import { scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import { loadGoldenJson } from '../helpers/golden.js';

const golden = loadGoldenJson('eval-knn.json');
const g = (name: string) => golden.tensors[name] as Tensor;

test('evaluate reproduces the faiss recall of both protocols and has the documented shape', () => {
  scope(() => {
    const ks = golden.extra.ks as number[];
    const self = evaluate({ embeddings: g('x'), labels: g('labels') }, { k: ks, binary: true, nmi: true, mapR: true });
    assert.deepEqual(self.float.recall, golden.extra.recall_self);
    assert.deepEqual(Object.keys(self.float).sort(), ['mapAtR', 'nmi', 'rPrecision', 'recall']);
    assert.deepEqual(Object.keys(self.binary ?? {}).sort(), ['mapAtR', 'rPrecision', 'recall']);
    for (const v of [self.float.nmi, self.float.mapAtR, self.float.rPrecision] as number[]) assert.ok(v > 0 && v <= 1);
    assert.ok((self.float.rPrecision as number) >= (self.float.mapAtR as number));
    const pair = evaluate(
      {
        query: { embeddings: g('query'), labels: g('query_labels') },
        gallery: { embeddings: g('gallery'), labels: g('gallery_labels') },
      },
      { k: ks },
    );
    assert.deepEqual(pair, { float: { recall: golden.extra.recall_pair } });
  });
});

test('equal but distinct arrays as query and gallery are two sets (In-Shop protocol): nothing is excluded', () => {
  scope(() => {
    // Unit vectors at 0, 10, 90 and 80 degrees.
    const x = tensor([0, 10, 90, 80].map((deg) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)]));
    const labels = [0, 1, 0, 1];
    const asTwoSets = evaluate(
      { query: { embeddings: x, labels }, gallery: { embeddings: x.clone(), labels: [...labels] } },
      { k: [1] },
    );
    assert.deepEqual(asTwoSets.float.recall, { '1': 100 }); // each query finds its own copy
    // As one set, each item's nearest other item has the other label; items 1 and 3 find each other second.
    const asOneSet = evaluate({ embeddings: x, labels }, { k: [1, 2, 3] });
    assert.deepEqual(asOneSet.float.recall, { '1': 0, '2': 50, '3': 100 });
  });
});

test('In-Shop style query/gallery sets with int32 and int64 labels of the same classes', () => {
  scope(() => {
    const query = tensor([
      [1, 0],
      [0, 1],
      [-1, 0],
    ]);
    const gallery = tensor([
      [0.8, 0.6],
      [0.6, 0.8],
      [-0.6, -0.8],
    ]);
    const r = runEvaluation(
      {
        query: { embeddings: query, labels: tensor([7, 8, 9], { dtype: 'int32' }) },
        gallery: { embeddings: gallery, labels: tensor([8, 7, 9], { dtype: 'int64' }) },
      },
      { k: [1, 2], mapR: true },
    );
    // Query 0 -> gallery 0 (label 8), then 1 (label 7); query 1 -> 1 (7), 0 (8); query 2 -> 2 (9).
    assert.deepEqual(r.result.float.recall, { '1': 100 * (1 / 3), '2': 100 });
    assert.deepEqual([...r.neighbors.float.indices], [0, 1, 1, 0, 2, 1]);
    assert.equal(r.result.float.mapAtR, 1 / 3);
    assert.equal(r.selfRetrieval, false);
    // int32 and int64 labels share one code book; codes map back to the original labels.
    assert.deepEqual(r.classNames, [7, 8, 9]);
    assert.deepEqual([...r.galleryLabels], [1, 0, 2]);
  });
});

test('a K beyond what a query can retrieve is a usage error naming --k (not a silent 100%)', () => {
  scope(() => {
    const x = tensor([
      [1, 0],
      [0, 1],
      [1, 0.1],
    ]);
    // Item 0 is alone in its class, so it never hits; K = 2 searches the 2 other items.
    assert.deepEqual(evaluate({ embeddings: x, labels: [0, 1, 1] }, { k: [1, 2] }).float.recall, {
      '1': 100 * (1 / 3),
      '2': 100 * (2 / 3),
    });
    assert.throws(
      () => evaluate({ embeddings: x, labels: [0, 1, 1] }, { k: [1, 1000] }),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          '--k: Recall@1000 needs at least 1000 gallery items per query, the gallery has 3 items, 2 of them retrievable (a query excludes itself)',
    );
    // A query set against a distinct gallery: nothing is excluded, K = 3 is the whole gallery.
    const pair = { query: { embeddings: x, labels: [0, 1, 1] }, gallery: { embeddings: x, labels: [0, 1, 1] } };
    assert.equal(evaluate(pair, { k: [3] }).float.recall['3'], 100);
    assert.throws(
      () => evaluate(pair, { k: [4] }),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === '--k: Recall@4 needs at least 4 gallery items per query, the gallery has 3 items',
    );
  });
});

test('bad inputs are refused with one clear message: InputError for the data, UsageError for --k', () => {
  scope(() => {
    const x = tensor([
      [1, 0],
      [0, 1],
    ]);
    const refused = (run: () => unknown, kind: typeof InputError | typeof UsageError, message: string) =>
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof kind, `${(e as Error).name}: ${(e as Error).message}`);
        assert.equal((e as Error).message, message);
        assert.ok(!message.includes('\n'));
        return true;
      });
    refused(
      () => evaluate({ embeddings: x, labels: [0, 1, 2] }, { k: [1] }),
      InputError,
      'the set: 2 embeddings but 3 labels',
    );
    refused(
      () =>
        evaluate(
          {
            embeddings: tensor([
              [1, Number.NaN],
              [0, 1],
            ]),
            labels: [0, 1],
          },
          { k: [1] },
        ),
      InputError,
      'the set embeddings contain NaN or infinite values',
    );
    refused(
      () => evaluate({ embeddings: x, labels: tensor([0.5, 1]) }, { k: [1] }),
      InputError,
      'labels: expected integer labels (int32 or int64), got float32',
    );
    refused(
      () =>
        evaluate(
          { query: { embeddings: x, labels: [0, 1] }, gallery: { embeddings: tensor([[1, 0, 0]]), labels: [0] } },
          { k: [1] },
        ),
      InputError,
      'query embeddings have dimension 2, gallery embeddings 3',
    );
    refused(
      () => evaluate({ embeddings: tensor([1, 0]), labels: [0, 1] }, { k: [1] }),
      InputError,
      'the set embeddings: expected a 2-d [n, d] array, got shape [2]',
    );
    refused(() => evaluate({ embeddings: x, labels: [0, 1] }, { k: [] }), UsageError, '--k: the K list is empty');
    refused(
      () => evaluate({ embeddings: x, labels: [0, 1] }, { k: [0] }),
      UsageError,
      '--k: K must be a positive integer, got 0',
    );
  });
});

test('a fault inside the evaluation is not dressed up as bad input', () => {
  scope(() => {
    // A tile size the k-NN kernel refuses is a caller's (our) bug: it stays a plain error, reported as internal.
    const x = tensor([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    assert.throws(
      () => evaluate({ embeddings: x, labels: [0, 0, 1] }, { k: [1], tileSize: -3 }),
      (e: unknown) => e instanceof Error && !(e instanceof InputError) && !(e instanceof UsageError),
    );
  });
});
