// In-browser embedding end to end in headless Debian Chromium (playwright-core): `normsoftmax serve` over
// a small real index (bare resnet18 weights at dim 16, 256/224 resize and crop); the page decodes a
// 61x47 PNG (not in the index: the resize is exercised) with canvas, prepares it with preprocess.js and
// embeds it with onnxruntime-web from /ort/. Checks: the browser's vector matches the server's embedding
// of the same file (`normsoftmax embed`) to cosine >= 0.999, the results equal those of the server-side
// upload, only the vector was posted, and no request left for another host. Skips without Chromium
// (fails under CI).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import sharp from 'sharp';
import { CHROMIUM, chromiumMissing, chromiumSkip, embedInPage, launchChromium } from '../../helpers/chromium.js';
import { describeRun, runCli } from '../../helpers/cli.js';
import { writeImageFolder } from '../../helpers/images.js';
import { buildTinyResnetIndex, ServeProcess } from '../../helpers/serve-process.js';

const skip = chromiumSkip;
const missing = chromiumMissing;

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-browser-embed-'));
const images = join(dir, 'images');
const queryDir = join(dir, 'query');
const queryPng = join(queryDir, 'q.png');
const queryJpg = join(queryDir, 'q.jpg');
const idx = join(dir, 'idx');
let weights = '';
let server: ServeProcess | null = null;
let base = '';
let context: BrowserContext | null = null;

async function startServer(): Promise<string> {
  const started = await ServeProcess.start(idx);
  server = started.serve;
  return started.base;
}

/** A float32 .npy's values (little-endian, C order). */
function npyValues(path: string): Float32Array {
  const b = readFileSync(path);
  const headerLen = b.readUInt16LE(8);
  const data = b.subarray(10 + headerLen);
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

before(async () => {
  if (missing) return;
  await writeImageFolder(images, 3, 3, { size: 32 });
  mkdirSync(queryDir, { recursive: true });
  // A smooth gradient with stripes, 61x47: a non-square image that the 256x256 resize enlarges.
  const w = 61;
  const h = 47;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      px[i] = (x * 4) % 256;
      px[i + 1] = (y * 5 + (x % 7) * 20) % 256;
      px[i + 2] = ((x + y) * 3) % 256;
    }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(queryPng);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(queryJpg);
  weights = buildTinyResnetIndex(dir, images, idx);
  base = await startServer();
});

after(async () => {
  await context?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the page embeds the dropped image in Chromium: same vector and results as the server, nothing sent but the vector', {
  skip,
  timeout: 300_000,
}, async () => {
  assert.ok(!missing, `Chromium is required under CI: not found at ${CHROMIUM}`);
  // The server's embedding of the query file (the same pipeline as its query embedder).
  const out = join(dir, 'q.npy');
  const embedArgs = ['embed', '--checkpoint', weights, '--arch', 'resnet18', '--dim', '16'];
  embedArgs.push('--images', queryDir, '--out', out);
  const e = runCli(embedArgs);
  assert.equal(e.code, 0, describeRun(embedArgs, e));
  // rows in path order: q.jpg, q.png
  const serverVectors = npyValues(out);
  assert.equal(serverVectors.length, 32);
  const serverJpg = serverVectors.subarray(0, 16);
  const serverVector = serverVectors.subarray(16, 32);
  assert.match(server?.log ?? '', /in-browser embedding: [\d.]+ MB ONNX model at \/api\/model\.onnx/);

  context = await launchChromium(mkdtempSync(join(dir, 'profile-')));
  const requests: string[] = [];
  const searches: { type: string; body: string }[] = [];
  context.on('request', (req) => {
    requests.push(req.url());
    if (req.url().endsWith('/api/search')) {
      searches.push({ type: req.headers()['content-type'] ?? '', body: req.postData() ?? '' });
    }
  });
  const failed: string[] = [];
  context.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });

  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.getElementById('info')?.textContent?.includes('9 items'));
  // the model is ~45 MB (< 100 MB): the toggle is shown and on
  assert.equal(await page.isVisible('#browser-embed'), true);
  assert.equal(await page.isChecked('#browser-embed'), true);

  const browserVector = await embedInPage(page, queryPng);
  assert.equal(browserVector.length, 16);
  const c = cosine(browserVector, serverVector);
  assert.ok(c >= 0.999, `cosine(browser, server) = ${c}`);
  console.log(`cosine(browser, server) = ${c}`);
  const inBrowser = await page.$$eval('#results .result', (els) =>
    els.map((el) => [el.getAttribute('data-id'), el.querySelector('.score')?.textContent]),
  );
  assert.equal(inBrowser.length, 9);
  // only the vector was posted: JSON with 16 numbers, no image bytes
  assert.equal(searches.length, 1);
  assert.match(searches[0]?.type ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(JSON.parse(searches[0]?.body ?? '{}')).sort(), ['k', 'mode', 'vector']);

  // the same upload embedded by the server (toggle off re-runs the query as a multipart upload)
  // 'Searching…' is shown before the request leaves, so after its response the status is the new one
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/search')),
    page.uncheck('#browser-embed'),
  ]);
  await response.finished();
  await page.waitForFunction(() =>
    /results for the uploaded image/.test(document.getElementById('status')?.textContent ?? ''),
  );
  assert.equal(searches.length, 2);
  assert.match(searches[1]?.type ?? '', /^multipart\/form-data/);
  const onServer = await page.$$eval('#results .result', (els) =>
    els.map((el) => [el.getAttribute('data-id'), el.querySelector('.score')?.textContent]),
  );
  assert.deepEqual(
    inBrowser.map((r) => r[0]),
    onServer.map((r) => r[0]),
  );
  // scores shown to 4 decimals: equal up to one unit in the last place
  inBrowser.forEach((r, i) => {
    const a = Number(String(r[1]).replace('cosine ', ''));
    const b = Number(String(onServer[i]?.[1]).replace('cosine ', ''));
    assert.ok(Math.abs(a - b) <= 1.5e-4, `score ${i}: ${a} vs ${b}`);
  });

  // a JPEG: decoded by Chromium's decoder instead of libvips' (both libjpeg-turbo)
  const [again] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/search')),
    page.check('#browser-embed'),
  ]);
  await again.finished();
  const [jpgResponse] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/search')),
    page.setInputFiles('#file', queryJpg),
  ]);
  await jpgResponse.finished();
  const jpgVector = (await page.evaluate(
    () => (window as unknown as { searchPage: { lastVector: number[] } }).searchPage.lastVector,
  )) as number[];
  const cj = cosine(jpgVector, serverJpg);
  assert.ok(cj >= 0.999, `JPEG: cosine(browser, server) = ${cj}`);
  console.log(`JPEG: cosine(browser, server) = ${cj}`);

  // blob: (the preview of the picked file) and data: URLs are not network requests
  const network = requests.filter((u) => !/^(blob|data):/.test(u));
  assert.ok(
    network.every((u) => /^https?:/.test(u)),
    network.join(', '),
  );
  const hosts = new Set(network.map((u) => new URL(u).host));
  assert.deepEqual([...hosts], [new URL(base).host], `requests: ${[...hosts].join(', ')}`);
  assert.ok(requests.some((u) => u.endsWith('/ort/ort-wasm-simd-threaded.wasm')));
  assert.ok(requests.some((u) => u.endsWith('/api/model.onnx')));
  assert.deepEqual(failed, []);
  assert.deepEqual(pageErrors, []);
});
