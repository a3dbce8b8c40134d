// GET /api/items, /api/images and /api/thumbs: the right bytes and headers for indexed items, and nothing
// outside the image root for any id, encoded path or symbolic link.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { createSearchServer } from '../../../src/search/server/app.js';
import { fakeEmbedder, fakeIndex } from './fake-index.js';
import { type Fixture, fixtureServer } from './helpers.js';

let f: Fixture;
before(async () => {
  f = await fixtureServer();
});
after(async () => {
  await f.app.close();
  rmSync(f.root, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) => f.app.inject({ method: 'GET', url, headers });

test('GET /api/items/:id: the metadata and the item URLs; the id may contain slashes (encoded)', async () => {
  const r = await get('/api/items/green%2Fgreen-1.png');
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.json(), {
    id: 'green/green-1.png',
    path: 'green/green-1.png',
    label: 'green',
    size: null,
    hash: null,
    image: '/api/images/green%2Fgreen-1.png',
    thumb: '/api/thumbs/green%2Fgreen-1.png',
  });
});

test('GET /api/images/:id: the original bytes as image/png, with an ETag that answers 304', async () => {
  const r = await get('/api/images/blue%2Fblue-3.png');
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-type'], 'image/png');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.deepEqual(r.rawPayload, readFileSync(join(f.root, 'images', 'blue', 'blue-3.png')));
  const etag = r.headers.etag as string;
  assert.ok(etag);
  const again = await get('/api/images/blue%2Fblue-3.png', { 'if-none-match': etag });
  assert.equal(again.statusCode, 304);
  assert.equal(again.rawPayload.length, 0);
});

test('GET /api/thumbs/:id: a WebP of at most 160 px, cached (same ETag, 304 on revalidation)', async () => {
  const r = await get('/api/thumbs/red%2Fred-0.png');
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.headers['content-type'], 'image/webp');
  const meta = await sharp(r.rawPayload).metadata();
  assert.equal(meta.format, 'webp');
  // the fixture is 24 px: never enlarged
  assert.equal(meta.width, 24);
  const again = await get('/api/thumbs/red%2Fred-0.png');
  assert.equal(again.headers.etag, r.headers.etag);
  assert.deepEqual(again.rawPayload, r.rawPayload);
  const revalidate = await get('/api/thumbs/red%2Fred-0.png', { 'if-none-match': r.headers.etag as string });
  assert.equal(revalidate.statusCode, 304);
});

test('thumbnails are resized to the thumb size and kept on disk when a folder is given', async () => {
  const big = join(f.root, 'big');
  const items = [{ id: 'wide.png', path: 'wide.png', label: null, colour: [1, 2, 3] as [number, number, number] }];
  await sharp({ create: { width: 640, height: 320, channels: 3, background: { r: 9, g: 99, b: 199 } } })
    .png()
    .toFile(join(f.root, 'wide.png'));
  const thumbDir = join(big, 'thumbs');
  const app = createSearchServer({
    index: fakeIndex(items, f.root),
    embedder: fakeEmbedder(),
    options: { thumbSize: 100, thumbDir },
    log: () => {},
  });
  try {
    const r = await app.inject({ method: 'GET', url: '/api/thumbs/wide.png' });
    assert.equal(r.statusCode, 200);
    const meta = await sharp(r.rawPayload).metadata();
    assert.deepEqual([meta.width, meta.height], [100, 50]);
    const cached = readdirSync(thumbDir).flatMap((d) =>
      readdirSync(join(thumbDir, d)).map((n) => join(thumbDir, d, n)),
    );
    assert.equal(cached.length, 1);
    assert.deepEqual(readFileSync(cached[0] as string), r.rawPayload);
  } finally {
    await app.close();
  }
});

test('ids that are not in the index are 404 on every route, whatever path they spell', async () => {
  const ids = [
    '..%2F..%2Fetc%2Fpasswd',
    '%2Fetc%2Fpasswd',
    '..',
    '.',
    'red%2F..%2F..%2F..%2Fetc%2Fpasswd',
    'red%2F..%2Fred%2Fred-0.png',
    '%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '..%5C..%5Cetc%5Cpasswd',
    'nope.png',
    'red%252Fred-0.png',
  ];
  for (const id of ids) {
    for (const route of ['items', 'images', 'thumbs']) {
      const r = await get(`/api/${route}/${id}`);
      // "." normalises to an empty id: 400; everything else is an id the index does not have: 404
      assert.equal(r.statusCode, id === '.' ? 400 : 404, `/api/${route}/${id}: ${r.statusCode} ${r.body}`);
      assert.doesNotMatch(r.body, /root:/);
    }
  }
  // unencoded traversal never reaches a route that reads files
  for (const url of [
    '/api/images/../../../../etc/passwd',
    '/api/images/red/../../../etc/passwd',
    '/../../etc/passwd',
  ]) {
    const r = await get(url);
    assert.equal(r.statusCode, 404, url);
    assert.doesNotMatch(r.body, /root:/);
  }
  const nul = await get('/api/images/red%00');
  assert.equal(nul.statusCode, 400);
});

test('an indexed item whose file is a symbolic link out of the image root is not served', async () => {
  const secret = join(f.root, 'secret.txt');
  writeFileSync(secret, 'root:x:0:0:secret\n');
  const root = join(f.root, 'linked');
  rmSync(root, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(root);
  symlinkSync(secret, join(root, 'evil.png'));
  const items = [{ id: 'evil.png', path: 'evil.png', label: null, colour: [1, 2, 3] as [number, number, number] }];
  const app = createSearchServer({ index: fakeIndex(items, root), embedder: null, log: () => {} });
  try {
    for (const route of ['images', 'thumbs']) {
      const r = await app.inject({ method: 'GET', url: `/api/${route}/evil.png` });
      assert.equal(r.statusCode, 404, `${route}: ${r.body}`);
      assert.doesNotMatch(r.body, /root:x/);
    }
    assert.equal((await app.inject({ method: 'GET', url: '/api/items/evil.png' })).statusCode, 200);
  } finally {
    await app.close();
  }
});

test('an item without an image root: metadata yes, image and thumbnail 404', async () => {
  const items = [{ id: '7', path: null, label: 'x', colour: [1, 2, 3] as [number, number, number] }];
  const app = createSearchServer({ index: fakeIndex(items, null), embedder: null, log: () => {} });
  try {
    const item = await app.inject({ method: 'GET', url: '/api/items/7' });
    assert.equal(item.json().image, null);
    assert.equal((await app.inject({ method: 'GET', url: '/api/images/7' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/api/thumbs/7' })).statusCode, 404);
  } finally {
    await app.close();
  }
});

test('the web page, its script and style are served from the same process', async () => {
  const page = await get('/');
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /^text\/html/);
  assert.match(page.body, /<script[^>]+src="app\.js"/);
  assert.match(page.headers['content-security-policy'] as string, /default-src 'self'/);
  const js = await get('/app.js');
  assert.equal(js.statusCode, 200);
  assert.match(js.headers['content-type'] as string, /javascript/);
  const css = await get('/style.css');
  assert.match(css.headers['content-type'] as string, /^text\/css/);
  assert.equal((await get('/index.html/../../package.json')).statusCode, 404);
  assert.ok(!existsSync(join(f.root, 'images', 'thumbs')), 'no thumbnails written without a thumb folder');
});
