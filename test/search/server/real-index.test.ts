// The server over a real index folder (openIndex: usearch engine worker, checksums), not the fake: every
// mode and the filter answer exactly what index.search answers in process, and every item finds itself.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { openIndex } from '../../../src/search/open-index.js';
import { createSearchServer } from '../../../src/search/server/app.js';
import type { SearchMode, VisualSearchIndex } from '../../../src/search/types.js';
import { randomUnit, write } from '../helpers.js';
import type { SearchAnswer } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-serve-real-'));
let index: VisualSearchIndex;
let app: FastifyInstance;
before(async () => {
  await write(join(dir, 'idx'), randomUnit(300, 32, 7), 32, { labels: 4 });
  index = await openIndex(join(dir, 'idx'));
  app = createSearchServer({ index, embedder: null, log: () => {} });
  await app.ready();
});
after(async () => {
  await app?.close();
  await index?.close();
  rmSync(dir, { recursive: true, force: true });
});

const search = async (body: unknown) => {
  const r = await app.inject({
    method: 'POST',
    url: '/api/search',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as SearchAnswer;
};

test('float, binary and rerank over HTTP equal index.search in process; where filters', async () => {
  for (const mode of ['float', 'binary', 'rerank'] as SearchMode[]) {
    for (const where of [undefined, "label = 'c2'"]) {
      const a = await search({ id: 'item42', k: 7, mode, ...(where ? { where } : {}) });
      const [direct] = await index.search([index.vectorOf('item42') as Float32Array], {
        k: 7,
        mode,
        ...(where ? { where } : {}),
      });
      assert.deepEqual(
        a.results.map(({ id, path, label, score }) => ({ id, path, label, score })),
        direct,
        `${mode} ${where}`,
      );
      if (where) assert.ok(a.results.every((h) => h.label === 'c2'));
    }
  }
});

test('every item finds itself first by id (float), with cosine 1', async () => {
  for (let i = 0; i < 300; i += 13) {
    const a = await search({ id: `item${i}`, k: 1 });
    assert.equal(a.results[0]?.id, `item${i}`);
    assert.ok(Math.abs((a.results[0]?.score as number) - 1) < 1e-5);
  }
});

test('a vector query equals the id query of the same vector; /api/info reports the real index', async () => {
  const v = Array.from(index.vectorOf('item5') as Float32Array);
  const byVector = await search({ vector: v, k: 5, mode: 'rerank' });
  const byId = await search({ id: 'item5', k: 5, mode: 'rerank' });
  assert.deepEqual(
    byVector.results.map((h) => h.id),
    byId.results.map((h) => h.id),
  );
  const info = (await app.inject({ method: 'GET', url: '/api/info' })).json();
  assert.equal(info.items, 300);
  assert.equal(info.dim, 32);
  assert.equal(info.imageSearch, false);
  assert.equal((await app.inject({ method: 'GET', url: '/api/images/item5' })).statusCode, 404);
  assert.equal((await app.inject({ method: 'GET', url: '/api/items/item5' })).json().label, 'c1');
});
