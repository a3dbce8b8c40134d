// The backend table (src/search/backends.ts): one row per backend name, the folder's backend read from its
// manifest, the --backend flag, and each row's part of build and `index info`: readContent gives back what
// write stored (as stored: f16 not renormalised), dataBytes counts the backend's files, and the lines and
// rows it prints are checked against hand-written manifests. index build refuses a precision the backend
// does not store before it embeds anything.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { WriteOptions } from '../../src/search/backend.js';
import { BACKENDS, backendOf, expectBackend, parseBackend } from '../../src/search/backends.js';
import { packCodes } from '../../src/search/binary-codes.js';
import { buildIndex } from '../../src/search/build/build-index.js';
import { imagesSource } from '../../src/search/build/sources.js';
import type { LanceManifest } from '../../src/search/lancedb/layout.js';
import { type HnswInfo, MANIFEST_NAME, type Manifest } from '../../src/search/manifest.js';
import { fromHalf, toHalf } from '../../src/search/precision.js';
import { INDEX_BACKENDS } from '../../src/search/types.js';
import { UsageError } from '../../src/util/errors.js';
import { writeImageFolder } from '../helpers/images.js';
import { hashEmbedder } from './hash-embedder.js';
import { itemsOf, NO_EMBEDDER, randomUnit } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-backends-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const N = 12;
const DIM = 10;
const vectors = randomUnit(N, DIM, 3);
const options = (precision: WriteOptions['precision']): WriteOptions => ({
  precision,
  exactBelow: 50_000,
  embedder: { ...NO_EMBEDDER, dim: DIM },
  imageRoot: null,
  source: { kind: 'embeddings', detail: {} },
});

const usearchDir = join(dir, 'usearch');
const f16Dir = join(dir, 'usearch-f16');
const lanceDir = join(dir, 'lancedb');
before(async () => {
  await BACKENDS.usearch.write(usearchDir, { items: itemsOf(N), dim: DIM, vectors }, options('f32'));
  await BACKENDS.usearch.write(f16Dir, { items: itemsOf(N), dim: DIM, vectors }, options('f16'));
  await BACKENDS.lancedb.write(lanceDir, { items: itemsOf(N), dim: DIM, vectors }, options('f32'));
});

test('the table has one row per backend name, and no other', () => {
  assert.deepEqual(Object.keys(BACKENDS).sort(), [...INDEX_BACKENDS].sort());
  assert.deepEqual(BACKENDS.usearch.precisions, ['f32', 'f16', 'i8']);
  assert.deepEqual(BACKENDS.lancedb.precisions, ['f32']);
});

test("a folder's backend is its manifest's; without one it names, usearch (whose reader says what is wrong)", () => {
  assert.equal(backendOf(usearchDir), 'usearch');
  assert.equal(backendOf(lanceDir), 'lancedb');
  assert.equal(backendOf(join(dir, 'missing')), 'usearch');
  const odd = join(dir, 'odd');
  mkdirSync(odd);
  writeFileSync(join(odd, MANIFEST_NAME), '{"backend": "faiss"}');
  assert.equal(backendOf(odd), 'usearch');
  writeFileSync(join(odd, MANIFEST_NAME), '{"backend": "lancedb"');
  assert.equal(backendOf(odd), 'usearch');
});

test('--backend: a known name, or a usage error naming the choices; search and serve refuse a mismatch', () => {
  assert.equal(parseBackend(undefined), undefined);
  assert.equal(parseBackend('lancedb'), 'lancedb');
  assert.throws(
    () => parseBackend('sqlite'),
    (e: unknown) => e instanceof UsageError && e.message === '--backend: expected usearch or lancedb, got "sqlite"',
  );
  expectBackend(lanceDir, 'lancedb');
  expectBackend(lanceDir, undefined);
  expectBackend(join(dir, 'missing'), 'lancedb'); // no manifest: opening it says so
  assert.throws(
    () => expectBackend(lanceDir, 'usearch'),
    (e: unknown) => e instanceof UsageError && e.message === `--backend usearch: ${lanceDir} is a lancedb index`,
  );
});

test('readContent gives back what write stored: items, vectors as stored, codes', async () => {
  for (const folder of [usearchDir, lanceDir]) {
    const c = await BACKENDS[backendOf(folder)].readContent(folder);
    assert.equal(c.manifest.backend, backendOf(folder));
    assert.deepEqual(c.items, itemsOf(N), folder);
    assert.deepEqual(c.vectors, vectors, folder);
    assert.deepEqual(c.codes, packCodes(vectors, DIM), folder);
  }
  // f16: the stored halves, decoded but not renormalised (a rebuild reuses them as they are).
  const half = await BACKENDS.usearch.readContent(f16Dir);
  assert.equal(half.manifest.precision, 'f16');
  assert.deepEqual(
    half.vectors,
    Float32Array.from(vectors, (x) => fromHalf(toHalf(x))),
  );
  assert.notDeepEqual(half.vectors, vectors);
});

test("dataBytes counts the backend's files; verify checks them", async () => {
  const m = JSON.parse(readFileSync(join(usearchDir, MANIFEST_NAME), 'utf8')) as Manifest;
  const sizes = m.files.map((f) => statSync(join(usearchDir, f.name)).size);
  assert.equal(sizes.length, 3); // vectors, codes, items
  assert.equal(
    BACKENDS.usearch.dataBytes(usearchDir, m),
    sizes.reduce((a, b) => a + b, 0),
  );
  await BACKENDS.usearch.verify(usearchDir, m);
  const lance = JSON.parse(readFileSync(join(lanceDir, MANIFEST_NAME), 'utf8')) as LanceManifest;
  assert.ok(BACKENDS.lancedb.dataBytes(lanceDir, lance) > N * DIM * 4);
  await BACKENDS.lancedb.verify(lanceDir, lance);
  await assert.rejects(
    BACKENDS.lancedb.verify(lanceDir, { ...lance, items: N + 1 }),
    /the Lance table has 12 rows at version \d+, the manifest says 13 items: rebuild the index/,
  );
  // A vectors file cut short (in a folder of its own).
  const cut = join(dir, 'usearch-cut');
  const mc = await BACKENDS.usearch.write(cut, { items: itemsOf(N), dim: DIM, vectors }, options('f32'));
  const vectorsFile = mc.files.find((f) => f.role === 'vectors')?.name as string;
  writeFileSync(join(cut, vectorsFile), Buffer.alloc(4));
  await assert.rejects(BACKENDS.usearch.verify(cut, mc), /has 4 bytes, the manifest says 480 /);
});

const hnsw = (role: HnswInfo['role'], metric: HnswInfo['metric'], quantization: string): HnswInfo => ({
  role,
  metric,
  quantization,
  dimensions: 16,
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 64,
  recallAt10: 0.98765,
  recallQueries: 1000,
});

test('both backends check a search alike: k, mode, oversample, the queries; an item without a root has no file', async () => {
  for (const folder of [usearchDir, lanceDir]) {
    const index = await BACKENDS[backendOf(folder)].open(folder, {});
    try {
      const q = vectors.slice(0, DIM);
      const refused = async (request: Parameters<typeof index.search>[1], message: string, queries = [q]) =>
        assert.rejects(index.search(queries, request), (e: unknown) => {
          assert.equal((e as Error).message, message, folder);
          return true;
        });
      await refused({ k: 0, mode: 'float' }, 'k: expected a positive integer, got 0');
      await refused({ k: 1, mode: 'cosine' as 'float' }, 'mode: expected float, binary or rerank, got "cosine"');
      await refused({ k: 1, mode: 'rerank', oversample: 0 }, 'oversample: expected a positive integer, got 0');
      await refused({ k: 1, mode: 'float' }, "query 2 has 9 values, the index's vectors 10", [q, q.slice(1)]);
      const [hits] = await index.search([q.map((v) => v * 3)], { k: 1, mode: 'float' });
      assert.equal(hits?.[0]?.id, 'item0');
      assert.ok(Math.abs((hits?.[0]?.score as number) - 1) < 1e-6, folder);
      assert.equal(index.imageFile('item0'), null);
    } finally {
      await index.close();
    }
  }
});

test('what index build and index info print of each backend, from hand-written manifests', () => {
  const base = { hnsw: [], files: [] } as unknown as Manifest;
  const usearch = { ...base, hnsw: [hnsw('hnsw-float', 'cos', 'f16'), hnsw('hnsw-binary', 'hamming', 'b1')] };
  assert.deepEqual(BACKENDS.usearch.builtLines(usearch), [
    'hnsw-float recall@10 vs exact: 0.9877 (1000 queries)',
    'hnsw-binary recall@10 vs exact: 0.9877 (1000 queries)',
  ]);
  assert.deepEqual(BACKENDS.usearch.infoRows(usearch), [
    ['hnsw-float', 'cos, f16, 16 dims, M 16, ef 128/64, recall@10 0.9877'],
    ['hnsw-binary', 'hamming, b1, 16 dims, M 16, ef 128/64, recall@10 0.9877'],
  ]);
  assert.deepEqual(BACKENDS.usearch.builtLines(base), []);
  assert.deepEqual(BACKENDS.usearch.infoRows(base), []);

  const lance = {
    ...base,
    lance: {
      table: 'items',
      index: { kind: 'ivf-hnsw-sq' },
      query: { nprobes: 20 },
      recallAt10: 0.99123,
      recallQueries: 500,
      selfHits: 499,
      tableVersion: 7,
    },
  } as unknown as Manifest;
  assert.deepEqual(BACKENDS.lancedb.builtLines(lance), [
    'lancedb ivf-hnsw-sq recall@10 vs exact: 0.9912 (500 queries, 499 found themselves first)',
  ]);
  assert.deepEqual(BACKENDS.lancedb.infoRows(lance), [
    ['lancedb', 'table items version 7; ivf-hnsw-sq, query {"nprobes":20}, recall@10 0.9912'],
  ]);
  const exact = { ...lance, lance: { ...(lance as LanceManifest).lance, index: null, recallAt10: null } } as Manifest;
  assert.deepEqual(BACKENDS.lancedb.builtLines(exact), []);
  assert.deepEqual(BACKENDS.lancedb.infoRows(exact), [['lancedb', 'table items version 7; exact search']]);
});

test('index build refuses a precision its backend does not store before it embeds anything', async () => {
  const images = join(dir, 'images');
  await writeImageFolder(images, 2, 2, { size: 16 });
  const out = join(dir, 'f16-lance');
  const embedder = hashEmbedder({ checkpoint: 'a' });
  await assert.rejects(
    buildIndex(imagesSource(images, [out]), {
      out,
      precision: 'f16',
      backend: 'lancedb',
      exactBelow: 50_000,
      skipBadImages: false,
      embedder,
      silent: true,
    }),
    (e: unknown) => e instanceof UsageError && e.message === '--precision f16: the lancedb backend stores f32 vectors',
  );
  assert.deepEqual(embedder.embedded, []);
  assert.equal(existsSync(out), false);
});
