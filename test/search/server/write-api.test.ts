// The write routes of a writable server (serve --writable), in process over both backends: the token (401
// without, 403 wrong, never in the log, checked before the body is read), PUT /api/items/:id by vector, by a
// multipart image with label and meta, and by a raw image body (201 created, 200 replaced, the item's JSON),
// DELETE (200, then 404), read-your-writes through search, item, image, thumbnail, /api/info and `where
// meta.FIELD`, the stored image content-addressed under IDX/files/, /metrics' write, log and compaction
// counts, POST /api/compact, every bound refused with a one-line 4xx, and a full disk as 507 with nothing made.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { acquireWriterLock, type WriterLock } from '../../../src/io/writer-lock.js';
import { writeLanceIndex } from '../../../src/search/lancedb/write.js';
import { openIndex } from '../../../src/search/open-index.js';
import { createSearchServer } from '../../../src/search/server/app.js';
import type { IndexBackend, VisualSearchIndex } from '../../../src/search/types.js';
import { itemsOf, NO_EMBEDDER, randomUnit, write } from '../helpers.js';
import { colourVector, FAKE_DIM, fakeEmbedder, solidPng } from './fake-index.js';
import { multipart } from './helpers.js';

process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false';
const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-write-api-'));
after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.NORMSOFTMAX_FAULT;
});

const TOKEN = 'correct-horse-battery-staple-42';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const N = 12;
const base = randomUnit(N, FAKE_DIM, 3);
const row = (r: number) => Array.from(base.slice(r * FAKE_DIM, (r + 1) * FAKE_DIM));

interface Served {
  idx: string;
  lock: WriterLock;
  index: VisualSearchIndex;
  app: FastifyInstance;
  logged: string[];
}

async function serveWritable(backend: IndexBackend, name: string, o: { maxPixels?: number } = {}): Promise<Served> {
  const idx = join(dir, name);
  if (backend === 'usearch') await write(idx, base, FAKE_DIM);
  else
    await writeLanceIndex(
      idx,
      { items: itemsOf(N), dim: FAKE_DIM, vectors: base },
      {
        precision: 'f32',
        exactBelow: 50_000,
        embedder: { ...NO_EMBEDDER, dim: FAKE_DIM },
        imageRoot: null,
        source: { kind: 'embeddings', detail: {} },
      },
    );
  const lock = acquireWriterLock(idx, 'serve --writable');
  const logged: string[] = [];
  const index = await openIndex(idx, { writer: { lock, compactAbove: 1000 }, log: (l) => logged.push(l) });
  const app = createSearchServer({
    index,
    embedder: fakeEmbedder(),
    options: { batchWindowMs: 1, ...(o.maxPixels ? { maxPixels: o.maxPixels } : {}) },
    pixels: null,
    log: (l) => logged.push(l),
    writeToken: TOKEN,
  });
  await app.ready();
  return { idx, lock, index, app, logged };
}

async function close(s: Served): Promise<void> {
  await s.app.close();
  await s.index.close();
  s.lock.release();
}

const json = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;
const url = (id: string) => `/api/items/${encodeURIComponent(id)}`;

async function search(app: FastifyInstance, body: Record<string, unknown>) {
  const r = await app.inject({ method: 'POST', url: '/api/search', payload: body });
  assert.equal(r.statusCode, 200, r.body);
  return (json(r).results as { id: string; label: string | null; meta?: unknown; score: number }[]) ?? [];
}

for (const backend of ['usearch', 'lancedb'] as const) {
  test(`${backend}: writes need the token (401 / 403 before the body is read, never logged); reads do not`, async () => {
    const s = await serveWritable(backend, `${backend}-auth`);
    try {
      const body = { vector: row(0), label: 'x' };
      const none = await s.app.inject({ method: 'PUT', url: url('a'), payload: body });
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="normsoftmax"');
      assert.match(json(none).error as string, /Authorization: Bearer TOKEN/);
      const basic = await s.app.inject({
        method: 'PUT',
        url: url('a'),
        payload: body,
        headers: { authorization: `Basic ${TOKEN}` },
      });
      assert.equal(basic.statusCode, 401);
      for (const wrong of [`${TOKEN}x`, TOKEN.slice(0, -1), 'abcdefghijklmnopqrstuvwxyz', TOKEN.toUpperCase()]) {
        const r = await s.app.inject({
          method: 'DELETE',
          url: url('item1'),
          headers: { authorization: `Bearer ${wrong}` },
        });
        assert.equal(r.statusCode, 403, wrong);
        assert.ok(!r.body.includes(wrong), 'the token sent is not echoed');
      }
      // A body far above every limit is never read without the token: 401, not 413.
      const huge = await s.app.inject({
        method: 'PUT',
        url: url('a'),
        payload: Buffer.alloc(20 * 1024 * 1024),
        headers: { 'content-type': 'image/png' },
      });
      assert.equal(huge.statusCode, 401);
      assert.equal(s.index.item('a'), undefined);
      assert.equal(s.index.item('item1')?.id, 'item1', 'nothing was deleted');
      assert.equal(s.index.live?.().lastSeq, 0, 'nothing was logged');
      const info = json(await s.app.inject({ method: 'GET', url: '/api/info' }));
      assert.equal(info.writable, true);
      assert.equal(info.items, N);
      const ok = await s.app.inject({ method: 'PUT', url: url('a'), payload: body, headers: AUTH });
      assert.equal(ok.statusCode, 201, ok.body);
      assert.ok(!s.logged.some((l) => l.includes(TOKEN)), s.logged.join('\n'));
    } finally {
      await close(s);
    }
  });

  test(`${backend}: PUT by vector creates (201) then replaces (200); DELETE 200 then 404; read-your-writes`, async () => {
    const s = await serveWritable(backend, `${backend}-vector`);
    try {
      const v = [0.5, -0.5, 0.5, 0.5];
      const created = await s.app.inject({
        method: 'PUT',
        url: url('shoe/1'),
        payload: { vector: v, label: 'shoe', meta: { color: 'red', price: 12, sale: true } },
        headers: AUTH,
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.deepEqual(json(created), {
        id: 'shoe/1',
        path: null,
        label: 'shoe',
        size: null,
        hash: null,
        meta: { color: 'red', price: 12, sale: true },
        image: null,
        thumb: null,
      });
      // Seen by the next request of every kind.
      const item = json(await s.app.inject({ method: 'GET', url: url('shoe/1') }));
      assert.deepEqual(item.meta, { color: 'red', price: 12, sale: true });
      const [hit] = await search(s.app, { vector: v, k: 1 });
      assert.equal(hit?.id, 'shoe/1');
      assert.ok(Math.abs((hit?.score as number) - 1) < 1e-5, String(hit?.score));
      assert.deepEqual(hit?.meta, { color: 'red', price: 12, sale: true });
      assert.deepEqual(
        (await search(s.app, { id: 'shoe/1', k: 3, where: "meta.color = 'red' AND meta.price < 20" })).map((h) => h.id),
        ['shoe/1'],
      );
      assert.deepEqual(await search(s.app, { id: 'shoe/1', k: 3, where: 'meta.price > 20' }), []);
      assert.equal(json(await s.app.inject({ method: 'GET', url: '/api/info' })).items, N + 1);

      // Replace: 200, the new vector and fields, the old ones gone.
      const w = [-0.5, 0.5, 0.5, 0.5];
      const replaced = await s.app.inject({
        method: 'PUT',
        url: url('shoe/1'),
        payload: { vector: w, label: 'boot' },
        headers: AUTH,
      });
      assert.equal(replaced.statusCode, 200, replaced.body);
      assert.equal(json(replaced).label, 'boot');
      assert.equal(json(replaced).meta, undefined);
      assert.equal((await search(s.app, { vector: w, k: 1 }))[0]?.id, 'shoe/1');
      assert.notEqual((await search(s.app, { vector: v, k: 1 }))[0]?.id, 'shoe/1');
      assert.deepEqual(await search(s.app, { id: 'shoe/1', k: 3, where: "meta.color = 'red'" }), []);
      assert.equal(json(await s.app.inject({ method: 'GET', url: '/api/info' })).items, N + 1);

      // Replace an item of the base: 200, and it moves.
      const base0 = await s.app.inject({
        method: 'PUT',
        url: url('item0'),
        payload: { vector: v, label: 'moved' },
        headers: AUTH,
      });
      assert.equal(base0.statusCode, 200, base0.body);
      assert.equal((await search(s.app, { vector: v, k: 1 }))[0]?.id, 'item0');

      // Delete a put item and a base item: 200, then 404; gone from search, items and counts. A client that
      // sends a JSON content-type with its empty DELETE is answered the same.
      for (const id of ['shoe/1', 'item5']) {
        const del = await s.app.inject({
          method: 'DELETE',
          url: url(id),
          headers: { ...AUTH, ...(id === 'item5' ? { 'content-type': 'application/json' } : {}) },
        });
        assert.equal(del.statusCode, 200, del.body);
        assert.deepEqual(json(del), { id, deleted: true });
        assert.equal((await s.app.inject({ method: 'GET', url: url(id) })).statusCode, 404);
        const again = await s.app.inject({ method: 'DELETE', url: url(id), headers: AUTH });
        assert.equal(again.statusCode, 404);
        assert.match(json(again).error as string, /no item with id/);
      }
      const all = await search(s.app, { vector: row(5), k: 100, exact: true });
      assert.equal(all.length, N - 1);
      assert.ok(!all.some((h) => h.id === 'item5' || h.id === 'shoe/1'));
      assert.equal(json(await s.app.inject({ method: 'GET', url: '/api/info' })).items, N - 1);
      const byId = await s.app.inject({ method: 'POST', url: '/api/search', payload: { id: 'item5' } });
      assert.equal(byId.statusCode, 404);

      // The counts: 3 puts (1 created, 2 replaced), 2 deletes; the log's bytes; the live items.
      const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /normsoftmax_index_writes_total\{op="put",result="created"\} 1\n/);
      assert.match(metrics, /normsoftmax_index_writes_total\{op="put",result="replaced"\} 2\n/);
      assert.match(metrics, /normsoftmax_index_writes_total\{op="delete",result="deleted"\} 2\n/);
      assert.match(metrics, new RegExp(`normsoftmax_index_items ${N - 1}\\n`));
      assert.match(metrics, /normsoftmax_wal_fsyncs_total 5\n/);
      const walBytes = Number(/normsoftmax_wal_bytes_total (\d+)/.exec(metrics)?.[1]);
      assert.equal(walBytes, s.index.live?.().walBytes);
      assert.ok(walBytes > 3 * FAKE_DIM * 4, String(walBytes));

      // Compaction asked for: the same answers from the new generation; counted.
      const c = await s.app.inject({ method: 'POST', url: '/api/compact', headers: AUTH });
      assert.equal(c.statusCode, 200, c.body);
      assert.equal(json(c).compacted, true);
      assert.equal(json(c).items, N - 1);
      assert.equal(json(c).folded, 3, "item0's put, and the base rows of item0 and item5 hidden");
      assert.equal((await search(s.app, { vector: v, k: 1 }))[0]?.id, 'item0');
      assert.equal(json(await s.app.inject({ method: 'GET', url: '/api/info' })).generation, 2);
      assert.match((await s.app.inject({ method: 'GET', url: '/metrics' })).body, /normsoftmax_compactions_total 1\n/);
      const nothing = await s.app.inject({ method: 'POST', url: '/api/compact', headers: AUTH });
      assert.equal(json(nothing).compacted, false);
    } finally {
      await close(s);
    }
  });

  test(`${backend}: PUT of an image (multipart or raw) is embedded, stored under IDX/files/ and served`, async () => {
    const s = await serveWritable(backend, `${backend}-image`);
    try {
      const red = await solidPng([220, 20, 20]);
      const form = multipart({ label: 'red', meta: '{"color":"red","stock":3}' }, { bytes: red });
      const r = await s.app.inject({
        method: 'PUT',
        url: url('red one'),
        ...form,
        headers: { ...form.headers, ...AUTH },
      });
      assert.equal(r.statusCode, 201, r.body);
      const sha = createHash('sha256').update(red).digest('hex');
      assert.deepEqual(json(r), {
        id: 'red one',
        path: `files/${sha.slice(0, 2)}/${sha}.png`,
        label: 'red',
        size: red.length,
        hash: sha,
        meta: { color: 'red', stock: 3 },
        stored: true,
        image: '/api/images/red%20one',
        thumb: '/api/thumbs/red%20one',
      });
      assert.deepEqual(readFileSync(join(s.idx, 'files', sha.slice(0, 2), `${sha}.png`)), red);
      const img = await s.app.inject({ method: 'GET', url: '/api/images/red%20one' });
      assert.equal(img.statusCode, 200);
      assert.equal(img.headers['content-type'], 'image/png');
      assert.deepEqual(img.rawPayload, red);
      const thumb = await s.app.inject({ method: 'GET', url: '/api/thumbs/red%20one' });
      assert.equal(thumb.statusCode, 200, thumb.body);
      assert.equal(thumb.headers['content-type'], 'image/webp');
      // Found by its own picture, first, at similarity 1.
      const q = multipart({ k: '1' }, { bytes: red });
      const hits = json(await s.app.inject({ method: 'POST', url: '/api/search', ...q })).results as {
        id: string;
        score: number;
      }[];
      assert.equal(hits[0]?.id, 'red one');
      assert.ok(Math.abs((hits[0]?.score as number) - 1) < 1e-5);
      assert.deepEqual(s.index.vectorOf('red one'), colourVector(220, 20, 20));

      // A raw image/* body, label in the query string; the same bytes are stored once.
      const raw = await s.app.inject({
        method: 'PUT',
        url: `${url('red two')}?label=red&meta=${encodeURIComponent('{"color":"red"}')}`,
        payload: red,
        headers: { 'content-type': 'image/png', ...AUTH },
      });
      assert.equal(raw.statusCode, 201, raw.body);
      assert.equal(json(raw).path, `files/${sha.slice(0, 2)}/${sha}.png`);
      assert.deepEqual(json(raw).meta, { color: 'red' });
      const green = await solidPng([20, 200, 20]);
      const replaced = await s.app.inject({
        method: 'PUT',
        url: url('red two'),
        payload: green,
        headers: { 'content-type': 'image/png', ...AUTH },
      });
      assert.equal(replaced.statusCode, 200, replaced.body);
      assert.equal(json(replaced).label, null);
      assert.deepEqual(
        (await s.app.inject({ method: 'GET', url: '/api/images/red%20two' })).rawPayload,
        green,
        'the replaced item shows its new picture',
      );
      assert.deepEqual(
        (await search(s.app, { id: 'red one', k: 3, where: "meta.color = 'red'" })).map((h) => h.id),
        ['red one'],
      );
    } finally {
      await close(s);
    }
  });
}

test('bad writes: one-line 4xx naming the field, nothing written', async () => {
  const s = await serveWritable('usearch', 'bad', { maxPixels: 100 * 100 });
  try {
    const png = await solidPng([10, 10, 10], 8);
    const big = await solidPng([10, 10, 10], 200);
    const put = (payload: unknown, extra: Record<string, string> = {}, id = 'x') =>
      s.app.inject({
        method: 'PUT',
        url: url(id),
        payload: payload as string,
        headers: { ...AUTH, ...extra },
      });
    const cases: [Promise<{ statusCode: number; body: string }>, number, RegExp][] = [
      [put({ vector: [1, 2, 3] }), 400, /vector: expected an array of 4 numbers, got 3/],
      [put({ vector: [0, 0, 0, 0] }), 400, /vector/],
      [put({ vector: row(0), label: 7 }), 400, /label: expected a string of at most 1000 characters/],
      [put({ vector: row(0), label: 'x'.repeat(1001) }), 400, /label: expected a string/],
      [put({ vector: row(0), meta: { a: { b: 1 } } }), 400, /meta\.a: expected a string, number or boolean/],
      [put({ vector: row(0), meta: '{"a":' }), 400, /meta: expected a JSON object/],
      [put({ vector: row(0), meta: { 'not a name': 1 } }), 400, /meta/],
      [put({ vector: row(0), colour: 'red' }), 400, /unknown field "?colour"?: expected vector, label, meta/],
      [put({ label: 'x' }), 400, /vector: expected an array of numbers \(or send an image\)/],
      [put([1, 2]), 400, /body: expected an image/],
      [put('hello', { 'content-type': 'text/plain' }), 415, /./],
      [put(Buffer.from('not an image'), { 'content-type': 'image/png' }), 415, /./],
      [put(Buffer.alloc(0), { 'content-type': 'image/png' }), 400, /./],
      [put(big, { 'content-type': 'image/png' }), 413, /200 x 200 pixels is above the limit of 10,000 pixels/],
      [put(png, { 'content-type': 'image/png' }, 'x'.repeat(4097)), 400, /id: expected 1 to 4096 characters/],
      [
        s.app.inject({
          method: 'PUT',
          url: `${url('x')}?colour=red`,
          payload: png,
          headers: { ...AUTH, 'content-type': 'image/png' },
        }),
        400,
        /unknown field "?colour"?/,
      ],
    ];
    for (const [p, status, message] of cases) {
      const r = await p;
      assert.equal(r.statusCode, status, r.body);
      const error = json(r).error as string;
      assert.match(error, message);
      assert.ok(!error.includes('\n') && error.length <= 303, error);
    }
    const form = multipart({ note: 'x' }, { bytes: png });
    const extraField = await s.app.inject({
      method: 'PUT',
      url: url('x'),
      ...form,
      headers: { ...form.headers, ...AUTH },
    });
    assert.equal(extraField.statusCode, 400);
    assert.match(json(extraField).error as string, /unknown field "?note"?/);
    const noImage = multipart({ label: 'x' });
    const r = await s.app.inject({
      method: 'PUT',
      url: url('x'),
      ...noImage,
      headers: { ...noImage.headers, ...AUTH },
    });
    assert.equal(r.statusCode, 400);
    assert.match(json(r).error as string, /field "image": expected an image file/);
    assert.equal(s.index.live?.().lastSeq, 0, 'nothing was logged');
    assert.equal(existsSync(join(s.idx, 'files')), false, 'no image was stored');
  } finally {
    await close(s);
  }
});

test('a full disk at the log: 507, the write not made, the next write works', async () => {
  const s = await serveWritable('usearch', 'full');
  try {
    process.env.NORMSOFTMAX_FAULT = 'wal:before-fsync=enospc';
    const r = await s.app.inject({ method: 'PUT', url: url('a'), payload: { vector: row(1) }, headers: AUTH });
    assert.equal(r.statusCode, 507, r.body);
    assert.match(json(r).error as string, /no space left on device\): the write was not made/);
    delete process.env.NORMSOFTMAX_FAULT;
    assert.equal(s.index.item('a'), undefined);
    assert.equal((await s.app.inject({ method: 'GET', url: url('a') })).statusCode, 404);
    const ok = await s.app.inject({ method: 'PUT', url: url('a'), payload: { vector: row(1) }, headers: AUTH });
    assert.equal(ok.statusCode, 201, ok.body);
  } finally {
    await close(s);
  }
});

test('with --cors, the preflight of a writable server allows PUT, DELETE and the authorization header', async () => {
  const s = await serveWritable('usearch', 'cors');
  const app = createSearchServer({
    index: s.index,
    embedder: null,
    pixels: null,
    log: () => {},
    writeToken: TOKEN,
    options: { cors: 'https://shop.example.com' },
  });
  try {
    await app.ready();
    const r = await app.inject({
      method: 'OPTIONS',
      url: url('a'),
      headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'PUT' },
    });
    assert.equal(r.statusCode, 204);
    assert.equal(r.headers['access-control-allow-methods'], 'GET, POST, PUT, DELETE, OPTIONS');
    assert.equal(r.headers['access-control-allow-headers'], 'content-type, authorization');
  } finally {
    await app.close();
    await close(s);
  }
});

test('a read-only server has no write routes, and says so in /api/info', async () => {
  const idx = join(dir, 'readonly');
  await write(idx, base, FAKE_DIM);
  const index = await openIndex(idx, { log: () => {} });
  // A token without an index opened writable does not open the routes either.
  const app = createSearchServer({ index, embedder: null, pixels: null, log: () => {}, writeToken: TOKEN });
  try {
    await app.ready();
    assert.equal(json(await app.inject({ method: 'GET', url: '/api/info' })).writable, false);
    const r = await app.inject({ method: 'PUT', url: url('item1'), payload: { vector: row(0) }, headers: AUTH });
    assert.equal(r.statusCode, 405);
    assert.equal(r.headers.allow, 'GET, HEAD');
    assert.equal((await app.inject({ method: 'DELETE', url: url('item1'), headers: AUTH })).statusCode, 405);
  } finally {
    await app.close();
    await index.close();
  }
});
