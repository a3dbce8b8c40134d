// Hostile requests get a bounded 4xx, never a 500, and never an echo of what was sent: bodies nested 100,000
// deep, megabyte strings in every field, unknown routes and methods (404 / 405 as JSON), and ids of every
// allowed length, non-ASCII ones included, on every id route (also over a real socket, where the URL of a
// 4096-character id must fit in the request line).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createSearchServer } from '../../../src/search/server/app.js';
import { type FakeItem, fakeEmbedder, fakeIndex, writeFixtureImages } from './fake-index.js';
import { multipart } from './helpers.js';

const LONG_ID = `long/${'x'.repeat(140)}.png`; // 150 characters
const NON_ASCII_ID = 'été/ünïcödé-😀-中文.png';
const HUGE_ID = '中'.repeat(4096); // 4096 characters, 36,864 once percent-encoded
const items: FakeItem[] = [
  { id: LONG_ID, path: LONG_ID, label: 'long', colour: [200, 30, 30] },
  { id: NON_ASCII_ID, path: NON_ASCII_ID, label: 'ünï', colour: [30, 200, 30] },
  { id: HUGE_ID, path: 'huge.png', label: null, colour: [30, 30, 200] },
];
const root = mkdtempSync(join(tmpdir(), 'normsoftmax-hostile-'));
let app: FastifyInstance;
before(async () => {
  await writeFixtureImages(root, items);
  app = createSearchServer({ index: fakeIndex(items, root), embedder: fakeEmbedder(), log: () => {} });
  await app.ready();
});
after(async () => {
  await app.close();
  rmSync(root, { recursive: true, force: true });
});

const postJson = (payload: string) =>
  app.inject({ method: 'POST', url: '/api/search', headers: { 'content-type': 'application/json' }, payload });

/** A 4xx JSON answer whose message quotes at most ~100 characters of `sent`. */
function assertBoundedError(r: { statusCode: number; body: string }, status: number, sent: string, what: string) {
  assert.equal(r.statusCode, status, `${what}: ${r.body.slice(0, 300)}`);
  const body = JSON.parse(r.body) as { error: string; statusCode: number };
  assert.equal(body.statusCode, status);
  assert.ok(body.error.length <= 320, `${what}: a ${body.error.length}-character message`);
  assert.ok(!body.error.includes(sent.slice(0, 120)), `${what}: the message echoes more than 100 characters`);
}

test('a JSON body nested 100,000 deep is a 400 naming the limit, not a stack overflow', async () => {
  for (const payload of [
    '['.repeat(100_000) + ']'.repeat(100_000),
    `{"id":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_001)}`,
  ]) {
    const r = await postJson(payload);
    assert.equal(r.statusCode, 400, r.body.slice(0, 200));
    assert.match(r.json().error, /^body: JSON nested deeper than 32 levels$/);
  }
  // Brackets inside strings are not nesting; 32 levels are allowed.
  const ok = await postJson(JSON.stringify({ id: LONG_ID, where: `label != '${'['.repeat(500)}'` }));
  assert.equal(ok.statusCode, 200, ok.body);
  const deepOk = await postJson(`{"vector": ${'['.repeat(31)}1${']'.repeat(31)}}`);
  assert.equal(deepOk.statusCode, 400);
  assert.match(deepOk.json().error, /^vector: expected an array of 4 numbers/);
});

test('megabyte values in every field are refused without being echoed', async () => {
  const big = 'A'.repeat(4 * 1024 * 1024);
  const bodies: [string, Record<string, unknown>][] = [
    ['k', { id: LONG_ID, k: big }],
    ['mode', { id: LONG_ID, mode: big }],
    ['where', { id: LONG_ID, where: big }],
    ['where (short, bad)', { id: LONG_ID, where: `label = ${'q'.repeat(900)}` }],
    ['exact', { id: LONG_ID, exact: big }],
    ['id', { id: big }],
    ['id (unknown)', { id: 'z'.repeat(4000) }],
    ['vector element', { vector: [big, 1, 1, 1] }],
    ['unknown field', { [big]: 1, id: LONG_ID }],
  ];
  for (const [what, body] of bodies) {
    const payload = JSON.stringify(body);
    const r =
      payload.length > 1024 * 1024
        ? await app.inject({
            method: 'POST',
            url: '/api/search',
            ...multipart(Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]))),
          })
        : await postJson(payload);
    const sent = String(Object.values(body).find((v) => String(v).length > 100) ?? Object.keys(body)[0]);
    assertBoundedError(r, r.statusCode >= 400 && r.statusCode < 500 ? r.statusCode : 400, sent, what);
  }
  // A JSON body over its limit is a 413 that names the limit.
  const tooBig = await postJson(JSON.stringify({ id: big }));
  assert.equal(tooBig.statusCode, 413);
  assert.match(tooBig.json().error, /^JSON body too large: the limit is 1 MB$/);
  // Unknown multipart fields with long names are not echoed either.
  const r = await app.inject({ method: 'POST', url: '/api/search', ...multipart({ ['f'.repeat(3000)]: '1' }) });
  assertBoundedError(r, 400, 'f'.repeat(3000), 'multipart field name');
});

test('unknown routes are 404 and known routes with another method 405 with Allow, both as JSON', async () => {
  const notFound = await app.inject({ method: 'GET', url: `/nope/${'n'.repeat(5000)}` });
  assertBoundedError(notFound, 404, 'n'.repeat(5000), 'unknown route');
  assert.match(notFound.json().error, /^no such route: "GET" "\/nope\/n{10}/);
  for (const [method, url, allow] of [
    ['DELETE', '/api/search', 'POST'],
    ['GET', '/api/search', 'POST'],
    ['PUT', '/health', 'GET, HEAD'],
    ['POST', `/api/items/${encodeURIComponent(NON_ASCII_ID)}`, 'GET, HEAD'],
    ['PATCH', '/', 'GET, HEAD'],
  ] as const) {
    const r = await app.inject({ method, url });
    assert.equal(r.statusCode, 405, `${method} ${url}: ${r.body}`);
    assert.equal(r.headers.allow, allow, `${method} ${url}`);
    assert.match(r.headers['content-type'] as string, /^application\/json/);
    assert.match(r.json().error, new RegExp(`^method "${method}" is not allowed on .*: use ${allow}$`));
  }
});

test('ids of 150 characters and non-ASCII ids work on every id route and in search', async () => {
  for (const id of [LONG_ID, NON_ASCII_ID, HUGE_ID]) {
    const enc = encodeURIComponent(id);
    const item = await app.inject({ method: 'GET', url: `/api/items/${enc}` });
    assert.equal(item.statusCode, 200, `${id.slice(0, 20)}: ${item.body.slice(0, 200)}`);
    assert.equal(item.json().id, id);
    const image = await app.inject({ method: 'GET', url: `/api/images/${enc}` });
    assert.equal(image.statusCode, 200, image.body.slice(0, 200));
    assert.equal(image.headers['content-type'], 'image/png');
    const thumb = await app.inject({ method: 'GET', url: `/api/thumbs/${enc}` });
    assert.equal(thumb.statusCode, 200, thumb.body.slice(0, 200));
    const hit = await postJson(JSON.stringify({ id, k: 1 }));
    assert.equal(hit.statusCode, 200, hit.body.slice(0, 200));
    assert.equal(hit.json().results[0].id, id);
  }
  const over = await app.inject({ method: 'GET', url: `/api/items/${'y'.repeat(4097)}` });
  assertBoundedError(over, 400, 'y'.repeat(4097), 'an id over 4096 characters');
});

test('over a real socket, the URL of a 4096-character non-ASCII id fits (request line and path parameter)', async () => {
  const live = createSearchServer({ index: fakeIndex(items, root), embedder: null, log: () => {} });
  const base = await live.listen({ port: 0, host: '127.0.0.1' });
  try {
    const r = await fetch(`${base}/api/items/${encodeURIComponent(HUGE_ID)}`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { id: string }).id, HUGE_ID);
    const thumb = await fetch(`${base}/api/thumbs/${encodeURIComponent(HUGE_ID)}`);
    assert.equal(thumb.status, 200);
    await thumb.arrayBuffer();
  } finally {
    await live.close();
  }
});
