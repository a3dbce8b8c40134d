// Batched search (src/search/usearch/search-batcher.ts): searches asked for together go to the engine as
// one call, split back in order; keys, the batch bound, deadlines and failures by hand with a fake engine;
// then real indexes: concurrent searches give exactly the results of one search at a time, for every
// storage (f32, f16, i8), every mode (float, binary, rerank), exact and HNSW, with filters and with ties.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packCodes } from '../../src/search/binary-codes.js';
import { openIndex } from '../../src/search/open-index.js';
import type { SearchMode, VectorPrecision, VisualSearchIndex } from '../../src/search/types.js';
import type { EngineQuery } from '../../src/search/usearch/engine.js';
import { EngineClient } from '../../src/search/usearch/engine-client.js';
import { SearchBatcher } from '../../src/search/usearch/search-batcher.js';
import { itemsOf, randomUnit, write } from './helpers.js';

const Q: EngineQuery = { mode: 'float', k: 3, exact: false, oversample: 1, where: null, deadline: null, ef: null };

interface Call {
  queries: number[];
  nq: number;
  query: EngineQuery;
}

/** An engine that answers each query with its first component, and records its calls. */
function fakeEngine(fail = false) {
  const calls: Call[] = [];
  const run = async (queries: Float32Array, nq: number, query: EngineQuery) => {
    calls.push({ queries: Array.from(queries), nq, query });
    if (fail) throw new Error('engine failed');
    const dim = queries.length / nq;
    return Array.from({ length: nq }, (_, i) => queries[i * dim] as number);
  };
  return { calls, run };
}

describe('the batcher, by hand', () => {
  test('searches asked for in one turn go as one call, and each gets its own results in order', async () => {
    const e = fakeEngine();
    const b = new SearchBatcher(e.run);
    const got = await Promise.all([
      b.search(Float32Array.of(1, 0), 1, Q),
      b.search(Float32Array.of(2, 0, 3, 0), 2, Q),
      b.search(Float32Array.of(4, 0), 1, Q),
    ]);
    assert.deepEqual(got, [[1], [2, 3], [4]]);
    assert.deepEqual(e.calls, [{ queries: [1, 0, 2, 0, 3, 0, 4, 0], nq: 4, query: Q }]);
    assert.deepEqual(b.stats(), { batches: 1, queries: 4 });
    // A later turn is a new batch.
    assert.deepEqual(await b.search(Float32Array.of(5, 0), 1, Q), [5]);
    assert.equal(e.calls.length, 2);
  });

  test('while a batch is in the engine, later searches wait and leave together when it answers', async () => {
    const calls: number[] = [];
    let release: () => void = () => {};
    const run = async (queries: Float32Array, nq: number) => {
      calls.push(nq);
      if (calls.length === 1) await new Promise<void>((r) => (release = r));
      return Array.from(queries.subarray(0, nq));
    };
    const b = new SearchBatcher(run);
    const first = b.search(Float32Array.of(1), 1, Q);
    await new Promise((r) => setImmediate(r)); // the first batch leaves and hangs in the engine
    assert.deepEqual(calls, [1]);
    const later: Promise<number[]>[] = [];
    for (let turn = 0; turn < 3; turn++) {
      later.push(b.search(Float32Array.of(10 + turn), 1, Q), b.search(Float32Array.of(20 + turn), 1, Q));
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(calls, [1]); // three turns, nothing sent while the engine was busy
    release();
    assert.deepEqual(await first, [1]);
    assert.deepEqual(await Promise.all(later), [[10], [20], [11], [21], [12], [22]]);
    assert.deepEqual(calls, [1, 6]);
  });

  test('only searches with the same mode, k, exact, oversample, filter and dimension share a call', async () => {
    const e = fakeEngine();
    const b = new SearchBatcher(e.run);
    const variants: [Float32Array, EngineQuery][] = [
      [Float32Array.of(1, 0), Q],
      [Float32Array.of(2, 0), { ...Q, mode: 'binary' }],
      [Float32Array.of(3, 0), { ...Q, k: 4 }],
      [Float32Array.of(4, 0), { ...Q, exact: true }],
      [Float32Array.of(5, 0), { ...Q, oversample: 2 }],
      [Float32Array.of(6, 0), { ...Q, where: "label = 'a'" }],
      [Float32Array.of(7, 0, 0), Q],
      [Float32Array.of(8, 0), { ...Q, where: "label = 'a'" }],
      [Float32Array.of(9, 0), Q],
    ];
    const got = await Promise.all(variants.map(([q, query]) => b.search(q, 1, query)));
    assert.deepEqual(got, [[1], [2], [3], [4], [5], [6], [7], [8], [9]]);
    assert.equal(e.calls.length, 7);
    assert.deepEqual(
      e.calls.map((c) => c.queries.filter((_, i) => i % (c.queries.length / c.nq) === 0)),
      [[1, 9], [2], [3], [4], [5], [6, 8], [7]],
    );
  });

  test('a batch leaves at once when it holds maxQueries queries; the rest wait for the turn to end', async () => {
    const e = fakeEngine();
    const b = new SearchBatcher(e.run, 3);
    const pending = [1, 2, 3, 4].map((v) => b.search(Float32Array.of(v), 1, Q));
    assert.equal(e.calls.length, 1); // sent synchronously by the third search
    assert.equal(e.calls[0]?.nq, 3);
    assert.deepEqual(await Promise.all(pending), [[1], [2], [3], [4]]);
    assert.deepEqual(
      e.calls.map((c) => c.nq),
      [3, 1],
    );
    assert.throws(() => new SearchBatcher(e.run, 0), /maxQueries must be a positive integer, got 0/);
  });

  test("a batch's deadline is the earliest of its searches'; no deadline counts as none", async () => {
    const e = fakeEngine();
    const b = new SearchBatcher(e.run);
    await Promise.all([
      b.search(Float32Array.of(1), 1, { ...Q, deadline: 5000 }),
      b.search(Float32Array.of(2), 1, { ...Q, deadline: null }),
      b.search(Float32Array.of(3), 1, { ...Q, deadline: 3000 }),
      b.search(Float32Array.of(4), 1, { ...Q, deadline: 4000 }),
    ]);
    assert.equal(e.calls[0]?.query.deadline, 3000);
    await Promise.all([b.search(Float32Array.of(1), 1, Q), b.search(Float32Array.of(2), 1, Q)]);
    assert.equal(e.calls[1]?.query.deadline, null);
  });

  test('a failed call fails every search of its batch, and only those', async () => {
    const bad = fakeEngine(true);
    const b = new SearchBatcher(bad.run);
    const results = await Promise.allSettled([b.search(Float32Array.of(1), 1, Q), b.search(Float32Array.of(2), 1, Q)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(bad.calls.length, 1);
    const good = fakeEngine();
    const b2 = new SearchBatcher(good.run);
    assert.deepEqual(await b2.search(Float32Array.of(7), 1, Q), [7]);
  });
});

describe('batched equals one at a time, on real indexes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-batch-'));
  const DIM = 32;
  const N = 1200;
  // Ties: rows 1000.. repeat rows 0.., so many queries meet equal scores and distances.
  const base = randomUnit(1000, DIM, 3);
  const vectors = new Float32Array(N * DIM);
  vectors.set(base);
  vectors.set(base.subarray(0, (N - 1000) * DIM), 1000 * DIM);
  const queries = Array.from({ length: 24 }, (_, i) =>
    i % 3 === 0 ? vectors.slice(i * DIM, (i + 1) * DIM) : randomUnit(1, DIM, 100 + i),
  );
  const indexes = new Map<string, VisualSearchIndex>();

  before(async () => {
    for (const precision of ['f32', 'f16', 'i8'] as VectorPrecision[]) {
      for (const graph of [false, true]) {
        const name = `${precision}-${graph ? 'hnsw' : 'exact'}`;
        await write(join(dir, name), vectors, DIM, { precision, exactBelow: graph ? 100 : 50_000 });
        indexes.set(name, await openIndex(join(dir, name)));
      }
    }
  });
  after(async () => {
    for (const index of indexes.values()) await index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const modes: SearchMode[] = ['float', 'binary', 'rerank'];
  for (const precision of ['f32', 'f16', 'i8']) {
    for (const graph of ['exact', 'hnsw']) {
      test(`${precision} ${graph}: every mode, with and without a filter, forced exact too`, async () => {
        const index = indexes.get(`${precision}-${graph}`) as VisualSearchIndex;
        for (const mode of modes) {
          for (const where of [undefined, "label IN ('c0', 'c2')"]) {
            for (const exact of [false, true]) {
              const request = { k: 12, mode, where, exact, oversample: 4 };
              const one: unknown[] = [];
              for (const q of queries) one.push((await index.search([q], request))[0]);
              const together = (await Promise.all(queries.map((q) => index.search([q], request)))).map((r) => r[0]);
              assert.deepEqual(together, one, `${mode} ${where ?? 'no filter'} exact=${exact}`);
              // And a search of all the queries at once.
              assert.deepEqual(await index.search(queries, request), one);
            }
          }
        }
      });
    }
  }

  test('the engine client sends concurrent searches as one call to its worker', async () => {
    const client = new EngineClient({ log: () => {} });
    try {
      await client.open({
        n: N,
        dim: DIM,
        vectors,
        codes: packCodes(vectors, DIM),
        hnswFloat: null,
        hnswBinary: null,
        items: itemsOf(N),
      });
      const query = { ...Q, k: 5, exact: true };
      const together = await Promise.all(queries.map((q) => client.search(q, 1, query)));
      assert.deepEqual(client.batchStats(), { batches: 1, queries: queries.length });
      for (const [i, q] of queries.entries()) assert.deepEqual(together[i], await client.search(q, 1, query));
      assert.deepEqual(client.batchStats(), { batches: 1 + queries.length, queries: 2 * queries.length });
    } finally {
      await client.close();
    }
  });
});
