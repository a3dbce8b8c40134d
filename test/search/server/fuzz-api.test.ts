// A fuzz test of the HTTP API: a few hundred generated requests (fast-check, seeded) against a live server
// on 127.0.0.1 over a real index: odd methods, paths, query strings, headers, JSON of odd shapes, multipart
// bodies with odd parts, raw bytes, and malformed HTTP on a bare socket. The server never answers 5xx but 503
// (its own limits), every answer is bounded, and afterwards it is alive, healthy and within its memory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { openIndex } from '../../../src/search/open-index.js';
import { createSearchServer } from '../../../src/search/server/app.js';
import type { VisualSearchIndex } from '../../../src/search/types.js';
import { randomUnit, write } from '../helpers.js';
import { FAKE_DIM, fakeEmbedder, solidPng } from './fake-index.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-fuzz-'));
let index: VisualSearchIndex;
let app: FastifyInstance;
let port = 0;
let png: Buffer;
before(async () => {
  await write(join(dir, 'idx'), randomUnit(200, FAKE_DIM, 3), FAKE_DIM, { labels: 4 });
  index = await openIndex(join(dir, 'idx'));
  app = createSearchServer({
    index,
    embedder: fakeEmbedder(),
    options: { maxUploadBytes: 256 * 1024, timeoutMs: 5000, batchWindowMs: 1 },
    log: () => {},
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  port = Number(new URL(base).port);
  png = await solidPng([10, 200, 30], 16);
});
after(async () => {
  await app?.close();
  await index?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  bytes: number;
  body: string;
}

function send(method: string, path: string, headers: Record<string, string>, body: Buffer | null): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, timeout: 10_000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, bytes: all.length, body: all.subarray(0, 400).toString() });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path.slice(0, 80)}: no answer within 10 s`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      // The server may close a connection whose request it refused before reading the whole body.
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') resolve({ status: 0, bytes: 0, body: '' });
      else reject(e);
    });
    if (body) req.end(body);
    else req.end();
  });
}

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const id = fc.oneof(
  fc.constantFrom('item0', 'item7', 'item199', '', '..', '../../etc/passwd', 'item0/../item1', '%00', 'x'.repeat(5000)),
  text,
);
const route = fc.oneof(
  fc.constantFrom('/api/search', '/health', '/metrics', '/api/info', '/', '/index.html', '/app.js', '/nope'),
  id.map((i) => `/api/items/${encodeURIComponent(i)}`),
  id.map((i) => `/api/images/${encodeURIComponent(i)}`),
  id.map((i) => `/api/thumbs/${encodeURIComponent(i)}`),
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(fc.constantFrom('k', 'mode', 'where', 'exact', 'oversample', 'x'), text, { maxKeys: 4 })
    .map((d) => `?${new URLSearchParams(d).toString()}`),
);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'POST', 'POST');
const searchFields = fc.record(
  {
    id: fc.oneof(id, fc.integer(), fc.constant(null)),
    vector: fc.oneof(
      fc.array(fc.double(), { maxLength: 6 }),
      fc.array(fc.oneof(fc.double(), fc.string(), fc.constant(null)), { maxLength: 5 }),
      fc.anything(),
    ),
    k: fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.string(), fc.double()),
    mode: fc.oneof(fc.constantFrom('float', 'binary', 'rerank'), fc.string()),
    where: fc.oneof(
      fc.constantFrom("label = 'c1'", "id LIKE '%%%%%%%%%%%%é'", "path LIKE '%_%_%_%_%'", "label IN ('c0', 'c2')"),
      fc.string({ maxLength: 60 }),
    ),
    exact: fc.oneof(fc.boolean(), fc.string()),
    oversample: fc.oneof(fc.integer({ min: -1, max: 200 }), fc.string()),
  },
  { requiredKeys: [] },
);
const jsonBody = fc.oneof(
  searchFields.map((o) => JSON.stringify(o)),
  fc.json({ maxDepth: 6 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.integer({ min: 1, max: 3000 }).map((n) => '['.repeat(n)),
  fc.integer({ min: 1, max: 200_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.string({ maxLength: 200 }),
);
const boundary = 'fuzzBoundary42';
const part = fc.oneof(
  fc
    .record({
      name: fc.constantFrom('k', 'mode', 'where', 'exact', 'image', 'x', ''),
      value: fc.string({ maxLength: 50 }),
    })
    .map((p) => `--${boundary}\r\ncontent-disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`),
  fc
    .constantFrom('png', 'garbage', 'empty')
    .map(
      (kind) =>
        `--${boundary}\r\ncontent-disposition: form-data; name="image"; filename="q\\".png"\r\ncontent-type: image/png\r\n\r\n${kind === 'png' ? '\0PNG\0' : kind === 'garbage' ? 'GIF89a????' : ''}\r\n`,
    ),
  fc.string({ maxLength: 80 }),
);
const multipartBody = fc
  .tuple(fc.array(part, { maxLength: 6 }), fc.boolean())
  .map(([parts, close]) => parts.join('') + (close ? `--${boundary}--\r\n` : ''));
const body = fc.oneof(
  fc.record({ type: fc.constant('application/json'), data: jsonBody }),
  fc.record({ type: fc.constant(`multipart/form-data; boundary=${boundary}`), data: multipartBody }),
  fc.record({
    type: fc.constantFrom('image/png', 'image/jpeg', 'text/plain', 'application/octet-stream', 'x/y', ''),
    data: fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.constant('png')),
  }),
);
const extraHeaders = fc.dictionary(
  fc.constantFrom('accept', 'range', 'if-none-match', 'origin', 'x-forwarded-for', 'accept-encoding', 'cookie'),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 100 }),
  { maxKeys: 3 },
);

test('generated requests: no 5xx but 503, bounded answers, the server alive and healthy afterwards', async () => {
  const rssBefore = process.memoryUsage().rss;
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(method, route, query, extraHeaders, fc.option(body), async (m, path, q, headers, b) => {
      let payload: Buffer | null = null;
      const h: Record<string, string> = { ...headers };
      if (b && m !== 'GET' && m !== 'HEAD') {
        payload = b.data === 'png' ? png : Buffer.from(b.data as string | Uint8Array);
        if (b.type !== '') h['content-type'] = b.type;
      }
      const a = await send(m, `${path}${q}`, h, payload);
      seen.set(a.status, (seen.get(a.status) ?? 0) + 1);
      assert.ok(
        a.status < 500 || a.status === 503,
        `${m} ${path.slice(0, 80)}${q.slice(0, 80)} -> ${a.status}: ${a.body}`,
      );
      if (a.status >= 400 && m !== 'HEAD' && a.bytes > 0) {
        assert.ok(a.bytes < 1000, `${a.status}: a ${a.bytes}-byte error answer`);
        assert.match(a.body, /^\{"error":/);
      }
    }),
    { numRuns: 400, seed: 20261207, interruptAfterTimeLimit: 240_000 },
  );
  console.log(`statuses: ${JSON.stringify([...seen].sort((a, b) => a[0] - b[0]))}`);
  // The mix reached the routes: successes, refusals of every kind.
  for (const status of [200, 400, 404, 405]) assert.ok((seen.get(status) ?? 0) > 0, `no ${status} in ${[...seen]}`);
  const health = await send('GET', '/health', {}, null);
  assert.equal(health.status, 200, health.body);
  const growth = (process.memoryUsage().rss - rssBefore) / 1048576;
  assert.ok(growth < 300, `resident memory grew by ${growth.toFixed(0)} MB`);
});

/** Writes raw bytes to the port and returns what came back until the server closed or 5 s passed. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => {
      got += d.toString('latin1');
    });
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('close', () => resolve(got));
    socket.on('error', () => resolve(got));
    socket.write(bytes, 'latin1', () => socket.end());
  });
}

test('malformed HTTP on a bare socket: refused with 4xx (or closed), and the server keeps answering', async () => {
  const cases = [
    'GET /%ZZ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /api/items/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n',
    'POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{"id":',
    `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(70_000)}\r\n\r\n`,
    'NOTAMETHOD / HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
    '\0\0\0\0\r\n\r\n',
  ];
  for (const c of cases) {
    const answer = await raw(c);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
    assert.ok(
      status === 0 || (status >= 400 && status < 500) || status === 503,
      `${c.slice(0, 60)} -> ${answer.slice(0, 120)}`,
    );
  }
  const health = await send('GET', '/health', {}, null);
  assert.equal(health.status, 200);
});
