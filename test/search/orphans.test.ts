// Items the HNSW graph cannot reach from their own vector (usearch leaves some at 100,000 items even with
// single-threaded adds) are stored as orphans and searched exactly beside the graph, so that every item
// still finds itself first. Here the orphans are made on purpose: removed from the graph after building.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { packCodes } from '../../src/search/binary-codes.js';
import { SearchEngine } from '../../src/search/usearch/engine.js';
import { unpackCodes } from '../../src/search/usearch/exact-search.js';
import { buildHnsw, DEFAULT_HNSW, type HnswSpec } from '../../src/search/usearch/hnsw.js';
import { randomUnit } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-orphans-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const N = 400;
const DIM = 32;
const vectors = randomUnit(N, DIM, 7);
const codes = packCodes(vectors, DIM);
const ORPHANS = [5, 17, 300];

function graphWithout(kind: 'float' | 'binary'): { spec: HnswSpec; path: string } {
  const spec: HnswSpec =
    kind === 'float'
      ? { metric: 'cos', quantization: 'f32', dimensions: DIM, params: DEFAULT_HNSW }
      : { metric: 'hamming', quantization: 'b1', dimensions: DIM, params: DEFAULT_HNSW };
  const built = buildHnsw(spec, kind === 'float' ? vectors : unpackCodes(codes), N);
  built.index.remove(BigUint64Array.from(ORPHANS, BigInt));
  const path = join(dir, `${kind}.usearch`);
  built.index.save(path);
  return { spec, path };
}

const float = graphWithout('float');
const binary = graphWithout('binary');

function engine(orphans: number[]): SearchEngine {
  const o = Int32Array.from(orphans);
  return new SearchEngine({
    n: N,
    dim: DIM,
    vectors,
    codes,
    hnswFloat: { ...float, orphans: o },
    hnswBinary: { ...binary, orphans: o },
    items: [],
  });
}

function firstHits(e: SearchEngine, mode: 'float' | 'binary' | 'rerank'): number[] {
  const queries = new Float32Array(ORPHANS.length * DIM);
  for (const [i, r] of ORPHANS.entries()) queries.set(vectors.subarray(r * DIM, (r + 1) * DIM), i * DIM);
  const hits = e.search(queries, ORPHANS.length, {
    mode,
    k: 3,
    exact: false,
    oversample: 4,
    where: null,
    deadline: null,
    ef: null,
  });
  return hits.map((h) => h.rows[0] as number);
}

test('without the orphan list, items missing from the graph are not found by their own vector', () => {
  const e = engine([]);
  try {
    const found = firstHits(e, 'float');
    assert.equal(
      found.filter((r, i) => r === ORPHANS[i]).length,
      0,
      `the graph still holds ${found} (the test would not show anything)`,
    );
  } finally {
    e.close();
  }
});

test('with the orphan list, every orphan finds itself first (float, binary and rerank), scores exact', () => {
  const e = engine(ORPHANS);
  try {
    assert.deepEqual(firstHits(e, 'float'), ORPHANS);
    const bin = firstHits(e, 'binary');
    // Binary codes can tie: the item itself must be among the rows with the best score.
    ORPHANS.forEach((r, i) => {
      const q = codes.subarray((r * DIM) / 8, ((r + 1) * DIM) / 8);
      const hit = bin[i] as number;
      const h = codes.subarray((hit * DIM) / 8, ((hit + 1) * DIM) / 8);
      assert.deepEqual([...h], [...q], `binary: orphan ${r} lost to ${hit}, whose code differs`);
    });
    assert.deepEqual(firstHits(e, 'rerank'), ORPHANS);
    const one = e.search(vectors.subarray(17 * DIM, 18 * DIM), 1, {
      mode: 'float',
      k: 1,
      exact: false,
      oversample: 4,
      where: null,
      deadline: null,
      ef: null,
    });
    assert.ok(Math.abs((one[0]?.scores[0] as number) - 1) < 1e-5);
  } finally {
    e.close();
  }
});
