// The HNSW settings a user chooses reach usearch: M and efConstruction at build (in the manifest, in the saved
// graph, and kept by a later build that does not name them), ef at search (per open, per search, per batch);
// a wider beam finds at least as many true neighbours, every item finds itself first, and bad values are
// refused naming the flag or field.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openIndex as openLibraryIndex } from '../../src/api/search-index.js';
import { fileOf } from '../../src/search/manifest.js';
import { openIndex } from '../../src/search/open-index.js';
import { parseSearchOptions } from '../../src/search/server/search-request.js';
import type { VisualSearchIndex } from '../../src/search/types.js';
import { DEFAULT_HNSW, HnswGraph, type HnswSpec, loadHnsw } from '../../src/search/usearch/hnsw.js';
import { writeUsearchIndex } from '../../src/search/usearch/write.js';
import { UsageError } from '../../src/util/errors.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { itemsOf, NO_EMBEDDER, randomUnit } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'normsoftmax-hnsw-settings-'));
after(() => rmSync(root, { recursive: true, force: true }));

// Random 32-d vectors with a sparse graph (M 8, efConstruction 16): HNSW's recall depends on the beam here.
const N = 3000;
const DIM = 32;
const vectors = randomUnit(N, DIM, 3);
const queries = Array.from({ length: 100 }, (_, i) => randomUnit(1, DIM, 1000 + i));

function build(dir: string, graph?: { m?: number; efConstruction?: number }, n = N) {
  return writeUsearchIndex(
    dir,
    { items: itemsOf(n), dim: DIM, vectors: vectors.slice(0, n * DIM) },
    {
      precision: 'f32',
      exactBelow: 0,
      embedder: { ...NO_EMBEDDER, dim: DIM },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
      ...(graph ? { graph } : {}),
    },
  );
}

const dir = join(root, 'idx');
const manifest = await build(dir, { m: 8, efConstruction: 16 });

/** Mean recall@10 of the graph against exact search over the queries. */
async function recallAt(index: VisualSearchIndex, ef: number | undefined): Promise<number> {
  const exact = await index.search(queries, { k: 10, mode: 'float', exact: true });
  const got = await index.search(queries, { k: 10, mode: 'float', ...(ef !== undefined ? { ef } : {}) });
  let hits = 0;
  got.forEach((g, i) => {
    const truth = new Set((exact[i] ?? []).map((h) => h.id));
    hits += g.filter((h) => truth.has(h.id)).length;
  });
  return hits / (queries.length * 10);
}

test('M and efConstruction are in the manifest and in the saved graph', () => {
  for (const h of manifest.hnsw) {
    assert.equal(h.connectivity, 8, h.role);
    assert.equal(h.expansionAdd, 16, h.role);
    assert.equal(h.expansionSearch, DEFAULT_HNSW.expansionSearch, h.role);
  }
  assert.deepEqual(manifest.graphParams, { connectivity: 8, expansionAdd: 16, expansionSearch: 64 });
  // The file itself: usearch reads M from the graph's header, whatever the object was made with.
  const file = fileOf(manifest, 'hnsw-float');
  assert.ok(file);
  const spec: HnswSpec = { metric: 'cos', quantization: 'f32', dimensions: DIM, params: DEFAULT_HNSW };
  assert.equal(loadHnsw(spec, join(dir, file.name)).connectivity(), 8);
});

test('a build that names no settings keeps the previous build; one that names M changes only M', async () => {
  const again = join(root, 'again');
  await build(again, { m: 8, efConstruction: 16 }, 300);
  const kept = await build(again, undefined, 300);
  assert.deepEqual(kept.graphParams, { connectivity: 8, expansionAdd: 16, expansionSearch: 64 });
  assert.equal(kept.hnsw[0]?.connectivity, 8);
  const changed = await build(again, { m: 12 }, 300);
  assert.deepEqual(changed.graphParams, { connectivity: 12, expansionAdd: 16, expansionSearch: 64 });
  const small = join(root, 'small');
  const none = await writeUsearchIndex(
    small,
    { items: itemsOf(50), dim: DIM, vectors: vectors.slice(0, 50 * DIM) },
    {
      precision: 'f32',
      exactBelow: 1000,
      embedder: { ...NO_EMBEDDER, dim: DIM },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
      graph: { m: 6 },
    },
  );
  // No graph below exactBelow, but the choice is kept for the build (or compaction) that makes one.
  assert.deepEqual(none.hnsw, []);
  assert.equal(none.graphParams?.connectivity, 6);
});

test("a wider beam finds at least as many true neighbours; every item finds itself first at the build's beam and above", async () => {
  const index = await openIndex(dir);
  try {
    const r10 = await recallAt(index, 10);
    const r32 = await recallAt(index, 32);
    const r256 = await recallAt(index, 256);
    const rBuilt = await recallAt(index, undefined);
    assert.ok(r10 <= r32 && r32 <= r256, `recall by ef 10/32/256: ${r10} ${r32} ${r256}`);
    // The beam reaches usearch: this sparse graph is far from exact at 10 and close at 256.
    assert.ok(r10 < 0.8, `ef 10: ${r10}`);
    assert.ok(r256 >= 0.98, `ef 256: ${r256}`);
    assert.equal(rBuilt, await recallAt(index, 64), 'no ef: the build beam, 64');
    // Every item first at the build's beam (the orphans, searched exactly beside the graph, were found at
    // it) and above; a narrower beam is the user's trade (at ef 1 here a third of the items are not found).
    const all = Array.from({ length: N }, (_, i) => vectors.slice(i * DIM, (i + 1) * DIM));
    for (const ef of [undefined, 64, 256]) {
      const hits = await index.search(all, { k: 1, mode: 'float', ...(ef !== undefined ? { ef } : {}) });
      const lost = hits.map((h, i) => (h[0]?.id === `item${i}` ? -1 : i)).filter((i) => i >= 0);
      assert.deepEqual(lost, [], `ef ${ef}`);
    }
  } finally {
    await index.close();
  }
});

test('the ef of an open is the default of its searches; a search naming one overrides it', async () => {
  const wide = await openIndex(dir, { ef: 256 });
  const plain = await openIndex(dir);
  try {
    const a = await wide.search(queries, { k: 10, mode: 'float' });
    const b = await plain.search(queries, { k: 10, mode: 'float', ef: 256 });
    assert.deepEqual(a, b);
    assert.deepEqual(
      await wide.search(queries, { k: 10, mode: 'float', ef: 10 }),
      await plain.search(queries, { k: 10, mode: 'float', ef: 10 }),
    );
    // Concurrent searches with different beams are not batched together: each gets its own.
    const [x, y] = await Promise.all([
      plain.search(queries, { k: 10, mode: 'float', ef: 10 }),
      plain.search(queries, { k: 10, mode: 'float', ef: 256 }),
    ]);
    assert.deepEqual(y, b);
    assert.notDeepEqual(x, y);
  } finally {
    await Promise.all([wide.close(), plain.close()]);
  }
  const lib = await openLibraryIndex(dir, { ef: 256 });
  try {
    const [q] = queries;
    const got = await lib.search({ vector: q as Float32Array, k: 10 });
    const plainAgain = await openIndex(dir);
    try {
      const [want] = await plainAgain.search([q as Float32Array], { k: 10, mode: 'float', ef: 256 });
      assert.deepEqual(got.results, want);
    } finally {
      await plainAgain.close();
    }
  } finally {
    await lib.close();
  }
});

test('memory-mapped views give the results of a graph loaded into the heap, at every beam', () => {
  const file = fileOf(manifest, 'hnsw-float');
  assert.ok(file);
  const spec: HnswSpec = {
    metric: 'cos',
    quantization: 'f32',
    dimensions: DIM,
    params: { connectivity: 8, expansionAdd: 16, expansionSearch: 64 },
  };
  const mapped = new HnswGraph(spec, join(dir, file.name));
  const loaded = new HnswGraph(spec, join(dir, file.name), { map: false });
  const flat = new Float32Array(queries.length * DIM);
  queries.forEach((q, i) => {
    flat.set(q, i * DIM);
  });
  for (const ef of [1, 10, 64, 300, 20, 30, 40, 50]) {
    assert.deepEqual(
      mapped.search(flat, queries.length, 10, ef),
      loaded.search(flat, queries.length, 10, ef),
      `ef ${ef}`,
    );
  }
  // The build's beam and the four most recent others stay open.
  assert.deepEqual(
    mapped.beams(),
    [64, 300, 20, 30, 40, 50].filter((b) => b !== 300),
  );
});

test('bad values are refused, naming the field', async () => {
  await assert.rejects(openIndex(dir, { ef: 0 }), (e: Error) => e instanceof UsageError && /^ef: /.test(e.message));
  const index = await openIndex(dir);
  try {
    for (const ef of [0, 4097, 1.5]) {
      await assert.rejects(
        index.search(queries, { k: 10, mode: 'float', ef }),
        (e: Error) => e instanceof UsageError && e.message === `ef: expected an integer from 1 to 4096, got ${ef}`,
      );
    }
  } finally {
    await index.close();
  }
  assert.equal(parseSearchOptions({ ef: '32' }).ef, 32);
  assert.throws(() => parseSearchOptions({ ef: 0 }), /ef: expected an integer from 1 to 4096, got 0/);
  assert.throws(() => parseSearchOptions({ ef: 'wide' }), /ef: expected an integer from 1 to 4096/);
  await assert.rejects(
    build(join(root, 'bad'), { m: 1 }),
    (e: Error) => e instanceof UsageError && /^m: expected an integer from 2 to 256, got 1$/.test(e.message),
  );
});

test('the CLI refuses bad --hnsw-m, --hnsw-ef-construction and --ef with one line, exit 2', () => {
  const cases: [string[], string][] = [
    [['index', 'build', '--out', join(root, 'x'), '--embeddings', 'x.npy', '--hnsw-m', '1'], '--hnsw-m'],
    [
      ['index', 'build', '--out', join(root, 'x'), '--embeddings', 'x.npy', '--hnsw-ef-construction', 'many'],
      '--hnsw-ef-construction',
    ],
    [['search', '--index', dir, '--id', 'item0', '--ef', '0'], '--ef'],
    [['serve', '--index', dir, '--ef', '5000'], '--ef'],
  ];
  for (const [args, flag] of cases) {
    const r = runCli(args);
    assert.equal(r.code, 2, describeRun(args, r));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, describeRun(args, r));
    assert.match(
      lines[0] as string,
      new RegExp(`${flag}: expected an integer from \\d+ to \\d+, got "`),
      describeRun(args, r),
    );
  }
});
