// A filter that is slow to evaluate runs in the search worker, never on the event loop, and stops at the
// server's time limit: over a real socket, /health answers again and again while such a search runs, the
// search gets 503 when its time is up, and the worker is free for the next search at once (it does not go
// on scanning for seconds). In process, index.search with timeoutMs rejects with a SearchTimeoutError.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openIndex } from '../../../src/search/open-index.js';
import { SearchTimeoutError } from '../../../src/search/search-timeout.js';
import { createSearchServer } from '../../../src/search/server/app.js';
import type { ItemMeta, VisualSearchIndex } from '../../../src/search/types.js';
import { writeUsearchIndex } from '../../../src/search/usearch/write.js';
import { NO_EMBEDDER, randomUnit } from '../helpers.js';

const N = 2000;
const DIM = 16;
// 4000-character ids and a pattern whose 600 _ are tried at every place of each id: about 2 million steps an
// item, seconds for the index, while the server's time limit is one second.
const SLOW = `id LIKE '%${'_'.repeat(600)}b%'`;
const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-slow-filter-'));
let index: VisualSearchIndex;
before(async () => {
  const items: ItemMeta[] = Array.from({ length: N }, (_, i) => ({
    id: `${String(i).padStart(5, '0')}${'a'.repeat(3995)}`,
    path: null,
    label: `c${i % 3}`,
    size: null,
    hash: null,
  }));
  await writeUsearchIndex(
    join(dir, 'idx'),
    { items, dim: DIM, vectors: randomUnit(N, DIM, 5) },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: { ...NO_EMBEDDER, dim: DIM },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
  index = await openIndex(join(dir, 'idx'));
});
after(async () => {
  await index?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('in process: a filter scan past timeoutMs rejects with a SearchTimeoutError; the next search works', async () => {
  const q = randomUnit(1, DIM, 9);
  await assert.rejects(index.search([q], { k: 3, mode: 'float', where: SLOW, timeoutMs: 200 }), (e: unknown) => {
    assert.ok(e instanceof SearchTimeoutError, String(e));
    assert.match(e.message, /^the filter was still running at the time limit \(\d+ of 2000 items\)$/);
    return true;
  });
  const [hits] = await index.search([q], { k: 3, mode: 'float', where: "label = 'c1'" });
  assert.equal(hits?.length, 3);
  for (const h of hits ?? []) assert.equal(h.label, 'c1');
});

test('over HTTP: /health keeps answering while a slow filter runs; the search is 503 at the limit; the next one is 200', async () => {
  const app = createSearchServer({ index, embedder: null, options: { timeoutMs: 1000 }, log: () => {} });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const search = (where: string) =>
      fetch(`${base}/api/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: `00007${'a'.repeat(3995)}`, k: 5, where }),
      });
    let answered = false;
    const slow = search(SLOW).then(async (r) => {
      answered = true;
      return { status: r.status, body: (await r.json()) as { error: string } };
    });
    let healthy = 0;
    while (!answered) {
      const h = await fetch(`${base}/health`);
      assert.equal(h.status, 200);
      await h.json();
      if (!answered) healthy++;
    }
    const s = await slow;
    assert.equal(s.status, 503);
    assert.match(s.body.error, /within 1000 ms|time limit/);
    assert.ok(healthy >= 3, `/health answered ${healthy} times while the search ran`);
    const next = await search("label = 'c1'");
    assert.equal(next.status, 200, 'the worker stopped its scan at the limit and takes the next search');
    const results = ((await next.json()) as { results: { label: string }[] }).results;
    assert.equal(results.length, 5);
    for (const r of results) assert.equal(r.label, 'c1');
  } finally {
    await app.close();
  }
});
