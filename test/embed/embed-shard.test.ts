// Data-parallel embedding's slice/pad/gather/trim (src/embed/embed-shard.ts), with an in-process world
// (test/helpers/fake-shards.ts) standing in for c10d's allgather: rank 0 gets exactly the rows one process
// would embed, in order; the other ranks get null; every rank sends the same padded row count; an empty
// slice embeds nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sample } from '../../src/data/types.js';
import { embeddingSlice, embedSharded } from '../../src/embed/embed-shard.js';
import { memory } from '../../src/tensor/index.js';
import { fakeWorld } from '../helpers/fake-shards.js';

const DIM = 3;
const samples = (n: number): Sample[] => Array.from({ length: n }, (_, i) => ({ path: `img${i}`, label: i % 2 }));
/** What "embedding" sample i gives here: row i is [i, i + 0.25, i + 0.5]. */
const rowsOf = (mine: readonly Sample[]) =>
  Float32Array.from(mine.flatMap((s) => [0, 0.25, 0.5].map((d) => Number(s.path.slice(3)) + d)));

for (const [n, worldSize] of [
  [5, 2],
  [3, 4],
  [8, 3],
] as const) {
  test(`${n} images on ${worldSize} ranks: rank 0 has the rows of one process, in order; the others null`, async () => {
    const baseline = memory().liveTensors;
    const { shards, sent } = fakeWorld(worldSize);
    const asked: number[][] = [];
    const results = await Promise.all(
      shards.map((shard) =>
        embedSharded(shard, samples(n), DIM, async (mine) => {
          asked[shard.rank] = mine.map((s) => Number(s.path.slice(3)));
          return rowsOf(mine);
        }),
      ),
    );
    assert.deepEqual(results[0], rowsOf(samples(n)));
    for (const r of results.slice(1)) assert.equal(r, null);
    const per = Math.ceil(n / worldSize);
    assert.deepEqual(
      sent,
      Array.from({ length: worldSize }, () => [per, DIM]),
    );
    // contiguous slices; a rank with nothing to embed is not asked to embed
    const expected = Array.from({ length: worldSize }, (_, r) => {
      const { start, end } = embeddingSlice(n, r, worldSize);
      return end > start ? Array.from({ length: end - start }, (_, i) => start + i) : undefined;
    });
    assert.deepEqual(
      Array.from({ length: worldSize }, (_, r) => asked[r]),
      expected,
    );
    assert.equal(memory().liveTensors, baseline, 'the padded slices and the gathered rows are freed');
  });
}
