// POST /api/search through fastify inject, over the in-memory index: good queries of every kind give the
// hand-computable answers of the fake (mean colour) embedder; every bad input is a 4xx with a message, and
// the server keeps answering afterwards.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { packageVersion } from '../../../src/util/version.js';
import { colourVector, solidPng } from './fake-index.js';
import { type Fixture, fixtureServer, multipart, type SearchAnswer } from './helpers.js';

let f: Fixture;
before(async () => {
  f = await fixtureServer();
});
after(async () => {
  await f.app.close();
  rmSync(f.root, { recursive: true, force: true });
});

const json = (body: unknown) => ({
  method: 'POST' as const,
  url: '/api/search',
  headers: { 'content-type': 'application/json' },
  payload: JSON.stringify(body),
});
const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

test('search by id: the item itself first (cosine 1), then by falling cosine; k results with thumbnail URLs', async () => {
  const r = await f.app.inject(json({ id: 'red/red-0.png', k: 5 }));
  assert.equal(r.statusCode, 200, r.body);
  const a = r.json() as SearchAnswer;
  assert.equal(a.results.length, 5);
  assert.deepEqual(a.results[0], {
    id: 'red/red-0.png',
    path: 'red/red-0.png',
    label: 'red',
    score: a.results[0]?.score,
    thumb: '/api/thumbs/red%2Fred-0.png',
  });
  close(a.results[0]?.score as number, 1);
  // the second is the nearest other shade: computed here from the colours
  const q = colourVector(215, 40, 40);
  const expected = f.items
    .map((it) => ({ id: it.id, s: dot(q, colourVector(...it.colour)) }))
    .sort((x, y) => y.s - x.s)
    .slice(0, 5);
  assert.deepEqual(
    a.results.map((h) => h.id),
    expected.map((e) => e.id),
  );
  for (const [i, h] of a.results.entries()) close(h.score, expected[i]?.s as number);
  assert.equal(typeof a.tookMs, 'number');
  assert.ok(a.tookMs >= 0);
});

test('search by a vector: scaled by 3, it gives the same answer as its item (the server normalises it)', async () => {
  const v = Array.from(colourVector(40, 200, 50), (x) => x * 3);
  const byVector = (await f.app.inject(json({ vector: v, k: 4 }))).json() as SearchAnswer;
  const byId = (await f.app.inject(json({ id: 'green/green-0.png', k: 4 }))).json() as SearchAnswer;
  assert.deepEqual(
    byVector.results.map((h) => h.id),
    byId.results.map((h) => h.id),
  );
  for (const [i, h] of byVector.results.entries()) close(h.score, byId.results[i]?.score as number);
  close(byVector.results[0]?.score as number, 1);
  assert.equal(byVector.results[0]?.label, 'green');
});

test('search by an uploaded image (multipart): its own item first, k and mode from the form fields', async () => {
  const png = await solidPng([40 + 24, 50 + 16, 215 - 14]); // blue-2's colour
  const { payload, headers } = multipart({ k: '3', mode: 'float' }, { bytes: png });
  const r = await f.app.inject({ method: 'POST', url: '/api/search', payload, headers });
  assert.equal(r.statusCode, 200, r.body);
  const a = r.json() as SearchAnswer;
  assert.equal(a.results.length, 3);
  assert.equal(a.results[0]?.id, 'blue/blue-2.png');
  close(a.results[0]?.score as number, 1, 1e-4);
  assert.ok(a.results.every((h) => h.label === 'blue'));
});

test('binary mode scores bits in common: all four components are positive, so every item has 4', async () => {
  const { payload, headers } = multipart({ k: '12', mode: 'binary' }, { bytes: await solidPng([200, 10, 10]) });
  const a = (await f.app.inject({ method: 'POST', url: '/api/search', payload, headers })).json() as SearchAnswer;
  assert.equal(a.results.length, 12);
  assert.deepEqual(new Set(a.results.map((h) => h.score)), new Set([4]));
});

test('a raw image/png body works too, with k in the query string', async () => {
  const r = await f.app.inject({
    method: 'POST',
    url: '/api/search?k=2',
    headers: { 'content-type': 'image/png' },
    payload: await solidPng([251, 64, 19]), // red-3's colour
  });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(
    (r.json() as SearchAnswer).results.map((h) => h.id),
    ['red/red-3.png', 'red/red-2.png'],
  );
});

test('where filters on the metadata: only green items, even for a red query', async () => {
  const a = (await f.app.inject(json({ id: 'red/red-0.png', k: 10, where: "label = 'green'" }))).json() as SearchAnswer;
  assert.equal(a.results.length, 4);
  assert.ok(a.results.every((h) => h.label === 'green'));
  const { payload, headers } = multipart({ where: "label IN ('blue')" }, { bytes: await solidPng([220, 30, 30]) });
  const b = (await f.app.inject({ method: 'POST', url: '/api/search', payload, headers })).json() as SearchAnswer;
  assert.deepEqual(new Set(b.results.map((h) => h.label)), new Set(['blue']));
});

test('bad parameters get 400 with a message naming the field', async () => {
  const cases: [unknown, RegExp][] = [
    [{ id: 'red/red-0.png', k: 0 }, /^k: expected an integer from 1 to 1000/],
    [{ id: 'red/red-0.png', k: 1001 }, /^k:/],
    [{ id: 'red/red-0.png', k: 2.5 }, /^k:/],
    [{ id: 'red/red-0.png', k: '10; drop' }, /^k:/],
    [{ id: 'red/red-0.png', mode: 'cosine' }, /^mode: expected float, binary or rerank, got "cosine"/],
    [{ id: 'red/red-0.png', where: "label = 'red" }, /unterminated string/],
    [{ id: 'red/red-0.png', where: 'colour = 1' }, /where|colour/],
    [{ id: 'red/red-0.png', oversample: 0 }, /^oversample:/],
    [{ id: 'red/red-0.png', exact: 'maybe' }, /^exact:/],
    [{ id: 'red/red-0.png', top: 3 }, /^unknown field "top"/],
    [{ id: 'red/red-0.png', vector: [1, 0, 0, 0] }, /exactly one of "id"/],
    [{}, /exactly one of "id"/],
    [[1, 2], /expected a JSON object/],
    ['red/red-0.png', /expected a JSON object/],
    [{ id: ['a'] }, /^id: expected a string/],
    [{ vector: [1, 2, 3] }, /^vector: expected an array of 4 numbers, got 3/],
    [{ vector: [1, 2, 'x', 4] }, /^vector: element 2 is "x"/],
    [{ vector: [0, 0, 0, 0] }, /non-zero/],
    [{ vector: 'abc' }, /^vector: expected an array of 4 numbers/],
  ];
  for (const [body, message] of cases) {
    const r = await f.app.inject(json(body));
    assert.equal(r.statusCode, 400, `${JSON.stringify(body)}: ${r.body}`);
    assert.match(r.json().error, message, JSON.stringify(body));
  }
});

test('malformed requests: bad JSON 400, empty JSON 400, an unknown content type 415', async () => {
  const bad = await f.app.inject({
    method: 'POST',
    url: '/api/search',
    headers: { 'content-type': 'application/json' },
    payload: '{"id": "red/red-0.png",',
  });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error, /JSON/);
  const empty = await f.app.inject({
    method: 'POST',
    url: '/api/search',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(empty.statusCode, 400);
  const text = await f.app.inject({
    method: 'POST',
    url: '/api/search',
    headers: { 'content-type': 'text/plain' },
    payload: 'red',
  });
  assert.equal(text.statusCode, 415);
});

test('an unknown id is 404, whatever it looks like', async () => {
  for (const id of ['nope.png', '../../etc/passwd', '/etc/passwd', 'red/../red/red-0.png', '0']) {
    const r = await f.app.inject(json({ id }));
    assert.equal(r.statusCode, 404, `${id}: ${r.body}`);
    assert.match(r.json().error, /no item with id/);
  }
  const nul = await f.app.inject(json({ id: 'red\u0000' }));
  assert.equal(nul.statusCode, 400);
});

test('bad uploads: not an image 415, undecodable or empty 400, a wrong field 400', async () => {
  const post = (m: ReturnType<typeof multipart>) => f.app.inject({ method: 'POST', url: '/api/search', ...m });
  const text = await post(multipart({}, { bytes: Buffer.from('hello, this is not an image'), type: 'image/png' }));
  assert.equal(text.statusCode, 415);
  assert.match(text.json().error, /not an image file/);
  const png = await solidPng([10, 20, 30], 64);
  // the header is whole, the pixels are cut: the embedder's decode answers (the route reads only headers)
  const truncated = await post(multipart({}, { bytes: png.subarray(0, 60) }));
  assert.equal(truncated.statusCode, 400, truncated.body);
  assert.match(truncated.json().error, /^image: cannot decode image \(.+\)$/);
  const noHeader = await post(multipart({}, { bytes: png.subarray(0, 20) }));
  assert.equal(noHeader.statusCode, 400, noHeader.body);
  assert.match(noHeader.json().error, /^image: cannot read the header of this png file \(.+\)$/);
  const empty = await post(multipart({}, { bytes: new Uint8Array(0) }));
  assert.equal(empty.statusCode, 400);
  const noImage = await post(multipart({ k: '3' }));
  assert.equal(noImage.statusCode, 400);
  assert.match(noImage.json().error, /field "image"/);
  const wrongField = await post(multipart({}, { field: 'photo', bytes: png }));
  assert.equal(wrongField.statusCode, 400);
  const badK = await post(multipart({ k: 'ten' }, { bytes: png }));
  assert.equal(badK.statusCode, 400);
  assert.match(badK.json().error, /^k:/);
  const unknownField = await post(multipart({ colour: 'red' }, { bytes: png }));
  assert.equal(unknownField.statusCode, 400);
  const rawText = await f.app.inject({
    method: 'POST',
    url: '/api/search',
    headers: { 'content-type': 'image/jpeg' },
    payload: 'GIF? no',
  });
  assert.equal(rawText.statusCode, 415);
});

test('after all the bad requests the server still answers, and /health is ok', async () => {
  const r = await f.app.inject(json({ id: 'blue/blue-3.png', k: 1 }));
  assert.equal(r.statusCode, 200);
  assert.equal((r.json() as SearchAnswer).results[0]?.id, 'blue/blue-3.png');
  const h = await f.app.inject({ method: 'GET', url: '/health' });
  const ok = { state: 'ok', restarts: 0, lastExit: null };
  assert.deepEqual(h.json(), {
    status: 'ok',
    version: packageVersion(),
    generation: 1,
    items: 12,
    queue: 0,
    parts: { search: ok, embedder: ok },
  });
});
