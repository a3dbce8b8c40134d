// The HTTP API over a LanceDB index (fastify inject): search by id and by vector with a `where` field,
// item lookup, the index's backend in /api/info; a bad filter is a 400 and the server keeps serving.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { writeLanceIndex } from '../../src/search/lancedb/write.js';
import { openIndex } from '../../src/search/open-index.js';
import { createSearchServer } from '../../src/search/server/app.js';
import type { VisualSearchIndex } from '../../src/search/types.js';
import { itemsOf, NO_EMBEDDER, randomUnit } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-lancedb-serve-'));
const N = 200;
const DIM = 16;
const vectors = randomUnit(N, DIM, 21);
let index: VisualSearchIndex;
let app: FastifyInstance;

before(async () => {
  await writeLanceIndex(
    dir,
    { items: itemsOf(N, 4), dim: DIM, vectors },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: { ...NO_EMBEDDER, dim: DIM },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
  index = await openIndex(dir); // the usearch entry point opens LanceDB folders too
  app = createSearchServer({ index, embedder: null, options: { batchWindowMs: 2 }, log: () => {} });
  await app.ready();
});
after(async () => {
  await app?.close();
  await index?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('search by id and by vector with where; items; /api/info names the backend', async () => {
  assert.equal(index.stats().backend, 'lancedb');
  const byId = await app.inject({
    method: 'POST',
    url: '/api/search',
    payload: { id: 'item5', k: 3, where: "label = 'c1'" },
  });
  assert.equal(byId.statusCode, 200, byId.body);
  const r = byId.json() as { results: { id: string; label: string; score: number }[] };
  assert.equal(r.results.length, 3);
  assert.equal(r.results[0]?.id, 'item5');
  for (const h of r.results) assert.equal(h.label, 'c1');

  const byVector = await app.inject({
    method: 'POST',
    url: '/api/search',
    payload: { vector: Array.from(vectors.subarray(6 * DIM, 7 * DIM)), k: 2, where: "label != 'c3'" },
  });
  assert.equal(byVector.statusCode, 200, byVector.body);
  assert.equal((byVector.json() as { results: { id: string }[] }).results[0]?.id, 'item6');

  const item = await app.inject({ method: 'GET', url: '/api/items/item9' });
  assert.equal(item.statusCode, 200);
  assert.equal((item.json() as { label: string }).label, 'c1');

  const bad = await app.inject({ method: 'POST', url: '/api/search', payload: { id: 'item5', where: 'size > 3' } });
  assert.equal(bad.statusCode, 400, bad.body);
  const health = await app.inject({ method: 'GET', url: '/health' });
  assert.equal(health.statusCode, 200);
  const info = await app.inject({ method: 'GET', url: '/api/info' });
  assert.equal((info.json() as { backend: string }).backend, 'lancedb');
});
