// The service's protective limits: micro-batching, the bounded queue (503 + Retry-After), search
// timeouts, upload size (413), CORS off unless asked, and the Prometheus metrics that count all of it.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { solidPng } from './fake-index.js';
import { type Fixture, fixtureServer, multipart, type SearchAnswer } from './helpers.js';

async function withServer(
  options: Parameters<typeof fixtureServer>[0],
  body: (f: Fixture) => Promise<void>,
  withEmbedder = true,
) {
  const f = await fixtureServer(options, withEmbedder);
  try {
    await body(f);
  } finally {
    await f.app.close();
    rmSync(f.root, { recursive: true, force: true });
  }
}

const upload = async (f: Fixture, colour: [number, number, number], fields: Record<string, string> = {}) =>
  f.app.inject({ method: 'POST', url: '/api/search', ...multipart(fields, { bytes: await solidPng(colour) }) });

/** Waits until cond() holds (polling the event loop), at most 5 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached within 5 s');
}

test('8 concurrent image queries share one embed call of 8, and each gets its own answer', async () => {
  await withServer({ batchSize: 8, batchWindowMs: 2000 }, async (f) => {
    const answers = await Promise.all(f.items.slice(0, 8).map((it) => upload(f, it.colour, { k: '1' })));
    assert.deepEqual(f.embedder.calls, [8]);
    assert.deepEqual(
      answers.map((r) => (r.json() as SearchAnswer).results[0]?.id),
      f.items.slice(0, 8).map((it) => it.id),
    );
    const metrics = (await f.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /^normsoftmax_embed_batch_size_count 1$/m);
    assert.match(metrics, /^normsoftmax_embed_batch_size_sum 8$/m);
  });
});

test('a batch is capped at the batch size: 5 queries with batch size 2 make calls of 2, 2 and 1', async () => {
  await withServer({ batchSize: 2, batchWindowMs: 50 }, async (f) => {
    let release = () => {};
    f.embedder.gate = new Promise((r) => {
      release = r;
    });
    const pending = f.items.slice(0, 5).map((it) => upload(f, it.colour));
    await until(() => f.embedder.calls.length === 1);
    // while the first call runs, the other three wait; one call at a time
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(f.embedder.calls, [2]);
    release();
    f.embedder.gate = null;
    const answers = await Promise.all(pending);
    assert.deepEqual(
      answers.map((r) => r.statusCode),
      [200, 200, 200, 200, 200],
    );
    assert.deepEqual(f.embedder.calls, [2, 2, 1]);
  });
});

test('the bounded queue: with room for 2, a third search gets 503 with Retry-After; the first two finish', async () => {
  await withServer({ queue: 2, batchSize: 1, retryAfterS: 3 }, async (f) => {
    let release = () => {};
    f.embedder.gate = new Promise((r) => {
      release = r;
    });
    const held = [
      upload(f, f.items[0]?.colour as [number, number, number]),
      upload(f, f.items[5]?.colour as [number, number, number]),
    ];
    for (let i = 0; i < 500 && (await f.app.inject({ method: 'GET', url: '/health' })).json().queue < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const depth = (await f.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(depth, /^normsoftmax_search_queue_depth 2$/m);
    const third = await f.app.inject({
      method: 'POST',
      url: '/api/search',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ id: 'red/red-0.png' }),
    });
    assert.equal(third.statusCode, 503);
    assert.equal(third.headers['retry-after'], '3');
    assert.match(third.json().error, /busy/);
    release();
    const done = await Promise.all(held);
    assert.deepEqual(
      done.map((r) => r.statusCode),
      [200, 200],
    );
    const after = (await f.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(after, /^normsoftmax_search_queue_depth 0$/m);
    assert.match(after, /^normsoftmax_http_requests_total\{route="\/api\/search",method="POST",status="503"\} 1$/m);
    assert.match(after, /^normsoftmax_http_requests_total\{route="\/api\/search",method="POST",status="200"\} 2$/m);
  });
});

test('a search that takes longer than the timeout gets 503; its queue slot is freed when it ends', async () => {
  // The gate holds the embedder until released, so the timeout fires whatever the machine's load; it is
  // long enough that the last, ungated upload finishes well within it on a busy machine.
  await withServer({ timeoutMs: 1000 }, async (f) => {
    let release = () => {};
    f.embedder.gate = new Promise((r) => {
      release = r;
    });
    const r = await upload(f, [10, 200, 10]);
    assert.equal(r.statusCode, 503);
    assert.match(r.json().error, /did not finish within 1000 ms/);
    const queue = async () => (await f.app.inject({ method: 'GET', url: '/health' })).json().queue as number;
    assert.equal(await queue(), 1);
    release();
    f.embedder.gate = null;
    for (let i = 0; i < 500 && (await queue()) !== 0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(await queue(), 0);
    assert.equal((await upload(f, [10, 200, 10])).statusCode, 200);
  });
});

test('uploads above --max-upload-mb get 413 (multipart, raw and JSON); smaller ones pass', async () => {
  const limit = 4096;
  await withServer({ maxUploadBytes: limit }, async (f) => {
    const small = await solidPng([40, 50, 215], 8);
    assert.ok(small.length < limit);
    assert.equal(
      (await f.app.inject({ method: 'POST', url: '/api/search', ...multipart({}, { bytes: small }) })).statusCode,
      200,
    );
    // noise does not compress: a 64 x 64 random PNG is ~12 kB
    const noise = Buffer.alloc(64 * 64 * 3);
    let x = 2463534242;
    for (let i = 0; i < noise.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      noise[i] = x & 255;
    }
    const sharp = (await import('sharp')).default;
    const big = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } })
      .png()
      .toBuffer();
    assert.ok(big.length > limit, `${big.length}`);
    const r = await f.app.inject({ method: 'POST', url: '/api/search', ...multipart({}, { bytes: big }) });
    assert.equal(r.statusCode, 413, r.body);
    assert.match(r.json().error, /^upload too large: the limit is 4096 bytes \(--max-upload-mb\)$/);
    const raw = await f.app.inject({
      method: 'POST',
      url: '/api/search',
      headers: { 'content-type': 'image/png' },
      payload: big,
    });
    assert.equal(raw.statusCode, 413);
    const json = await f.app.inject({
      method: 'POST',
      url: '/api/search',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ vector: Array.from({ length: 1000 }, () => 0.123456789) }),
    });
    assert.equal(json.statusCode, 413);
    assert.equal((await f.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  });
});

test('CORS is off by default: no Access-Control headers, and no preflight route', async () => {
  await withServer({}, async (f) => {
    const r = await f.app.inject({ method: 'GET', url: '/api/info', headers: { origin: 'https://evil.test' } });
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    const pre = await f.app.inject({
      method: 'OPTIONS',
      url: '/api/search',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    assert.notEqual(pre.statusCode, 204);
  });
});

test('--cors ORIGIN: that origin gets the headers and a preflight answer, another origin does not', async () => {
  await withServer({ cors: 'https://shop.test' }, async (f) => {
    const ok = await f.app.inject({ method: 'GET', url: '/api/info', headers: { origin: 'https://shop.test' } });
    assert.equal(ok.headers['access-control-allow-origin'], 'https://shop.test');
    const other = await f.app.inject({ method: 'GET', url: '/api/info', headers: { origin: 'https://evil.test' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const pre = await f.app.inject({
      method: 'OPTIONS',
      url: '/api/search',
      headers: { origin: 'https://shop.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.statusCode, 204);
    assert.match(pre.headers['access-control-allow-methods'] as string, /POST/);
  });
});

test('/api/info and /metrics describe the index; metrics count requests by route pattern and status', async () => {
  await withServer({}, async (f) => {
    const info = (await f.app.inject({ method: 'GET', url: '/api/info' })).json();
    assert.equal(info.items, 12);
    assert.equal(info.dim, 4);
    assert.deepEqual(info.modes, ['float', 'binary', 'rerank']);
    assert.equal(info.imageSearch, true);
    assert.equal(info.embedder.arch, 'fake-mean-colour');
    for (let i = 0; i < 3; i++) await f.app.inject({ method: 'GET', url: '/api/items/red%2Fred-0.png' });
    await f.app.inject({ method: 'GET', url: '/api/items/nope' });
    await f.app.inject({ method: 'GET', url: '/no/such/route' });
    const r = await f.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    const m = r.body;
    assert.match(m, /^normsoftmax_http_requests_total\{route="\/api\/items\/:id",method="GET",status="200"\} 3$/m);
    assert.match(m, /^normsoftmax_http_requests_total\{route="\/api\/items\/:id",method="GET",status="404"\} 1$/m);
    assert.match(m, /^normsoftmax_http_requests_total\{route="unmatched",method="GET",status="404"\} 1$/m);
    assert.match(m, /^normsoftmax_http_request_duration_seconds_count\{route="\/api\/items\/:id",method="GET"\} 4$/m);
    assert.match(m, /^normsoftmax_index_items 12$/m);
    assert.match(m, /^normsoftmax_search_queue_depth 0$/m);
  });
});

test('without an embedder, image queries are 400 (search by id or vector) and id queries work', async () => {
  await withServer(
    {},
    async (f) => {
      const r = await upload(f, [1, 2, 3]);
      assert.equal(r.statusCode, 400);
      assert.match(r.json().error, /no embedder .*"id" or "vector"/);
      assert.equal((await f.app.inject({ method: 'GET', url: '/api/info' })).json().imageSearch, false);
      const byId = await f.app.inject({
        method: 'POST',
        url: '/api/search',
        headers: { 'content-type': 'application/json' },
        payload: '{"id":"blue/blue-0.png","k":2}',
      });
      assert.equal(byId.statusCode, 200);
    },
    false,
  );
});

test('--rate-limit: the N+1-th request within a second from one client is 429 with Retry-After; /health is exempt', async () => {
  await withServer({ rateLimit: 3 }, async (f) => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await f.app.inject({ method: 'GET', url: '/api/info' })).statusCode);
    assert.deepEqual(codes, [200, 200, 200, 429, 429]);
    const r = await f.app.inject({ method: 'GET', url: '/api/info' });
    assert.equal(r.statusCode, 429);
    assert.equal(r.headers['retry-after'], '1');
    assert.deepEqual(r.json(), {
      error: 'too many requests: at most 3 per second from one client (--rate-limit)',
      statusCode: 429,
    });
    for (let i = 0; i < 5; i++) assert.equal((await f.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    // Another client has its own budget.
    const other = await f.app.inject({ method: 'GET', url: '/api/info', remoteAddress: '10.1.2.3' });
    assert.equal(other.statusCode, 200);
  });
  await withServer({}, async (f) => {
    for (let i = 0; i < 20; i++)
      assert.equal((await f.app.inject({ method: 'GET', url: '/api/info' })).statusCode, 200);
  });
});

test('security headers (helmet): CSP, no framing, no referrer, nosniff; resources same-origin unless CORS is on', async () => {
  await withServer({}, async (f) => {
    for (const url of ['/', '/api/info', '/nope']) {
      const h = (await f.app.inject({ method: 'GET', url })).headers;
      assert.equal(
        h['content-security-policy'],
        "default-src 'self';img-src 'self' blob: data:;script-src 'self' 'wasm-unsafe-eval';style-src 'self';connect-src 'self';frame-ancestors 'none';base-uri 'none';form-action 'none'",
        url,
      );
      assert.equal(h['x-frame-options'], 'DENY', url);
      assert.equal(h['referrer-policy'], 'no-referrer', url);
      assert.equal(h['x-content-type-options'], 'nosniff', url);
      assert.equal(h['cross-origin-resource-policy'], 'same-origin', url);
      assert.equal(h['strict-transport-security'], undefined, url);
    }
  });
  await withServer({ cors: 'https://shop.example' }, async (f) => {
    const h = (await f.app.inject({ method: 'GET', url: '/api/info' })).headers;
    assert.equal(h['cross-origin-resource-policy'], 'cross-origin');
  });
});
