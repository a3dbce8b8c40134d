// Shards fanned out and merged give the answer of one index over all items, ties included: three usearch
// indexes over consecutive ranges of the rows, each asked for k, merged by mergeShardHits, against the
// index over every row, for exact float and binary search (binary ties often) on vectors with duplicates.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openIndex } from '../../src/search/open-index.js';
import { mergeShardHits } from '../../src/search/shard-merge.js';
import type { SearchHit, SearchMode } from '../../src/search/types.js';
import { writeUsearchIndex } from '../../src/search/usearch/write.js';
import { itemsOf, NO_EMBEDDER, randomUnit } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'normsoftmax-shards-'));
after(() => rmSync(root, { recursive: true, force: true }));

const N = 600;
const DIM = 16;
const vectors = randomUnit(N, DIM, 5);
// Ties across shard borders: rows 10, 250 and 550 are one vector; so are 20 and 420.
for (const [from, to] of [
  [10, 250],
  [10, 550],
  [20, 420],
]) {
  vectors.copyWithin((to as number) * DIM, (from as number) * DIM, ((from as number) + 1) * DIM);
}
const items = itemsOf(N);
const BORDERS = [0, 200, 450, N];

async function writeRows(dir: string, from: number, to: number) {
  await writeUsearchIndex(
    dir,
    { items: items.slice(from, to), dim: DIM, vectors: vectors.slice(from * DIM, to * DIM) },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: { ...NO_EMBEDDER, dim: DIM },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
}

test('shards over consecutive row ranges, merged, answer as the whole index does, ties included', async () => {
  await writeRows(join(root, 'all'), 0, N);
  for (let s = 0; s + 1 < BORDERS.length; s++)
    await writeRows(join(root, `shard${s}`), BORDERS[s] as number, BORDERS[s + 1] as number);
  const whole = await openIndex(join(root, 'all'));
  const shards = await Promise.all([0, 1, 2].map((s) => openIndex(join(root, `shard${s}`))));
  try {
    const queries: Float32Array[] = [10, 20, 300, 599].map((r) => vectors.slice(r * DIM, (r + 1) * DIM));
    queries.push(...Array.from({ length: 20 }, (_, i) => randomUnit(1, DIM, 77 + i)));
    for (const mode of ['float', 'binary'] as SearchMode[]) {
      for (const k of [1, 5, 40]) {
        const want = await whole.search(queries, { k, mode });
        const parts = await Promise.all(shards.map((s) => s.search(queries, { k, mode })));
        const got = queries.map((_, q) =>
          mergeShardHits(
            parts.map((p) => p[q] as SearchHit[]),
            k,
          ),
        );
        assert.deepEqual(
          got.map((hits) => hits.map((h) => h.id)),
          want.map((hits) => hits.map((h) => h.id)),
          `${mode} k ${k}`,
        );
        assert.deepEqual(got, want, `${mode} k ${k}: scores too`);
      }
    }
    // The duplicated rows tie: the lowest shard's comes first, as the lowest row does in the whole index.
    const [dup] = await whole.search([vectors.slice(10 * DIM, 11 * DIM)], { k: 3, mode: 'float' });
    assert.deepEqual(
      dup?.map((h) => h.id),
      ['item10', 'item250', 'item550'],
    );
  } finally {
    await Promise.all([whole.close(), ...shards.map((s) => s.close())]);
  }
});

test('mergeShardHits: fewer hits than k, empty shards, and a bad k', () => {
  const h = (score: number, id: string) => ({ score, id });
  assert.deepEqual(mergeShardHits([[h(3, 'a'), h(1, 'b')], [], [h(3, 'c'), h(2, 'd')]], 10), [
    h(3, 'a'),
    h(3, 'c'),
    h(2, 'd'),
    h(1, 'b'),
  ]);
  assert.deepEqual(mergeShardHits([[h(3, 'c')], [h(3, 'a')]], 1), [h(3, 'c')], 'a tie goes to the lower shard');
  assert.throws(() => mergeShardHits([], 0), /k: expected a positive integer, got 0/);
});
