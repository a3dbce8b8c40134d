// The routes of in-browser embedding, with app.inject over the fake index: /api/model.onnx (bytes, ETag,
// 304), /api/info.browserEmbed, the three whitelisted onnxruntime-web files under /ort/ (content types;
// anything else 404), the CSP that lets WebAssembly compile, and 404 / null when no model is offered.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { exportOnnx } from '../../../src/embed/onnx/index.js';
import { createEmbedder } from '../../../src/nn/embedder.js';
import { createSearchServer } from '../../../src/search/server/app.js';
import { browserModelOf } from '../../../src/search/server/browser-model.js';
import { Generator } from '../../../src/tensor/index.js';
import { fakeEmbedder, fakeIndex } from './fake-index.js';
import { fixtureImages } from './helpers.js';

const { root, items } = await fixtureImages();
after(() => rmSync(root, { recursive: true, force: true }));

const model = createEmbedder({ arch: 'smallcnn', dim: 8, generator: new Generator(0) });
const bytes = exportOnnx(model, {});
model.dispose();
const sha = createHash('sha256').update(bytes).digest('hex');

function server(withModel: boolean) {
  return createSearchServer({
    index: fakeIndex(items, join(root, 'images')),
    embedder: fakeEmbedder(),
    browserModel: withModel ? browserModelOf(bytes, sha, 'm.onnx') : null,
    pixels: null,
    log: () => {},
  });
}

test('the model, its ETag and 304, and /api/info.browserEmbed', async () => {
  const app = server(true);
  const r = await app.inject({ method: 'GET', url: '/api/model.onnx' });
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-type'], 'application/octet-stream');
  assert.equal(r.headers.etag, `"${sha}"`);
  assert.ok(Buffer.from(bytes).equals(r.rawPayload));
  const again = await app.inject({ method: 'GET', url: '/api/model.onnx', headers: { 'if-none-match': `"${sha}"` } });
  assert.equal(again.statusCode, 304);
  assert.equal(again.rawPayload.length, 0);
  const info = (await app.inject({ method: 'GET', url: '/api/info' })).json();
  assert.deepEqual(info.browserEmbed, {
    model: '/api/model.onnx',
    runtime: '/ort/',
    bytes: bytes.length,
    sha256: sha,
    arch: 'smallcnn',
    dim: 8,
    preprocessing: {
      resize: null,
      crop: null,
      size: 28,
      colorOrder: 'gray',
      channels: 1,
      range: 1,
      mean: [0.5],
      std: [0.5],
    },
    defaultOn: true,
  });
  assert.match(r.headers['content-security-policy'] as string, /script-src 'self' 'wasm-unsafe-eval';/);
  await app.close();
});

test('onnxruntime-web from node_modules: three files with their types, nothing else', async () => {
  const app = server(true);
  const wasm = await app.inject({ method: 'GET', url: '/ort/ort-wasm-simd-threaded.wasm' });
  assert.equal(wasm.statusCode, 200);
  assert.equal(wasm.headers['content-type'], 'application/wasm');
  assert.deepEqual([...wasm.rawPayload.subarray(0, 4)], [0, 0x61, 0x73, 0x6d]); // \0asm
  for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs']) {
    const r = await app.inject({ method: 'GET', url: `/ort/${f}` });
    assert.equal(r.statusCode, 200, f);
    assert.match(r.headers['content-type'] as string, /^text\/javascript/);
  }
  for (const f of ['ort.min.js', 'package.json', '..%2Fpackage.json', 'ort-wasm-simd-threaded.jsep.wasm']) {
    const r = await app.inject({ method: 'GET', url: `/ort/${f}` });
    assert.equal(r.statusCode, 404, f);
  }
  await app.close();
});

test('no model offered: 404 for the model, browserEmbed null', async () => {
  const app = server(false);
  const r = await app.inject({ method: 'GET', url: '/api/model.onnx' });
  assert.equal(r.statusCode, 404);
  assert.match(r.json().error, /no model for in-browser embedding/);
  assert.equal((await app.inject({ method: 'GET', url: '/api/info' })).json().browserEmbed, null);
  await app.close();
});
