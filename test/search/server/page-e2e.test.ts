// The web page end to end in headless Debian Chromium (playwright-core): the real `normsoftmax serve` on a
// loopback port over a small real index (generated images, bare resnet18 weights at dim 16). Uploads a
// query image, sees the result grid, clicks a result to search from it, switches to binary, and saves a
// screenshot (test-artifacts/search-page.png). Then on `serve --writable`: the write controls shown, a
// delete refused without and with a wrong token, a result deleted with the right one, an image dropped with an
// id added and searched. Skips when Chromium is missing, except under CI.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { CHROMIUM, chromiumMissing, chromiumSkip, launchChromium } from '../../helpers/chromium.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { writeImageFolder } from '../../helpers/images.js';
import { buildTinyResnetIndex, ServeProcess } from '../../helpers/serve-process.js';

const skip = chromiumSkip;
const missing = chromiumMissing;
const ARTIFACT = join(REPO_ROOT, 'test-artifacts', 'search-page.png');

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-page-e2e-'));
const images = join(dir, 'images');
const idx = join(dir, 'idx');
let server: ServeProcess | null = null;
let writable: ServeProcess | null = null;
const TOKEN = 'page-e2e-write-token-0123';
let base = '';
let context: BrowserContext | null = null;

async function startServer(): Promise<string> {
  const started = await ServeProcess.start(idx);
  server = started.serve;
  return started.base;
}

before(async () => {
  if (missing) return;
  await writeImageFolder(images, 3, 3, { size: 32 });
  buildTinyResnetIndex(dir, images, idx);
  base = await startServer();
});

after(async () => {
  await context?.close();
  await server?.stop();
  await writable?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the search page in Chromium: upload, result grid, click to search, switch mode, screenshot', {
  skip,
  timeout: 240_000,
}, async () => {
  assert.ok(!missing, `Chromium is required under CI: not found at ${CHROMIUM}`);
  context = await launchChromium(mkdtempSync(join(dir, 'profile-')), { viewport: { width: 1100, height: 800 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });

  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.getElementById('info')?.textContent?.includes('9 items'));
  assert.match((await page.textContent('#info')) as string, /9 items · resnet18, 16-d · f32 · exact/);

  // upload an indexed image: it finds itself first, and the grid has all 9 items (k = 10)
  await page.setInputFiles('#file', join(images, 'class1', 'img2.png'));
  await page.waitForFunction(() => document.querySelectorAll('#results .result').length === 9);
  const first = await page.getAttribute('#results .result:first-child', 'data-id');
  assert.equal(first, 'class1/img2.png');
  assert.match((await page.textContent('#results .result:first-child .score')) as string, /^cosine (1\.0000|0\.9999)/);
  assert.equal(await page.textContent('#results .result:first-child .label'), 'class1');
  assert.match(
    (await page.textContent('#status')) as string,
    /^9 results for the uploaded image \(float\) in [\d.]+ ms$/,
  );
  // every thumbnail loaded
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLImageElement>('#results img')].every((i) => i.complete && i.naturalWidth > 0),
  );

  // click the third result: it becomes the query and comes first
  const third = (await page.getAttribute('#results .result:nth-child(3)', 'data-id')) as string;
  await page.click('#results .result:nth-child(3) button');
  await page.waitForFunction((id) => document.getElementById('status')?.textContent?.includes(`for item ${id}`), third);
  assert.equal(await page.getAttribute('#results .result:first-child', 'data-id'), third);
  assert.equal(await page.inputValue('#id-input'), third);

  // binary: the same query again, scored in bits in common (16 for itself)
  await page.check('input[name="mode"][value="binary"]');
  await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('(binary)'));
  assert.equal(await page.textContent('#results .result:first-child .score'), '16 bits in common');

  // paste the URL of an indexed item's image
  await page.fill('#id-input', `${base}/api/images/${encodeURIComponent('class0/img1.png')}`);
  await page.click('#by-id button[type="submit"]');
  await page.waitForFunction(() =>
    document.getElementById('status')?.textContent?.includes('for item class0/img1.png'),
  );
  assert.equal(await page.getAttribute('#results .result:first-child', 'data-id'), 'class0/img1.png');

  // a bad id shows the server's message
  await page.fill('#id-input', 'no/such.png');
  await page.click('#by-id button[type="submit"]');
  await page.waitForFunction(() => document.getElementById('status')?.classList.contains('error'));
  assert.match((await page.textContent('#status')) as string, /^404: no item with id "no\/such\.png"/);

  await page.check('input[name="mode"][value="float"]');
  await page.setInputFiles('#file', join(images, 'class2', 'img0.png'));
  await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('uploaded image (float)'));
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLImageElement>('#results img')].every((i) => i.complete && i.naturalWidth > 0),
  );
  mkdirSync(join(REPO_ROOT, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: ARTIFACT, fullPage: true });
  assert.ok(statSync(ARTIFACT).size > 5000);
  // the 404 above logs a failed fetch in the console; nothing else may
  assert.deepEqual(
    pageErrors.filter((e) => !/status of 404/.test(e)),
    [],
  );
});

test('on a writable server the page deletes a result and adds a dropped image, with the token kept in the tab', {
  skip,
  timeout: 240_000,
}, async () => {
  assert.ok(!missing, `Chromium is required under CI: not found at ${CHROMIUM}`);
  await server?.stop();
  const started = await ServeProcess.start(idx, ['--writable'], { NORMSOFTMAX_WRITE_TOKEN: TOKEN });
  writable = started.serve;
  context ??= await launchChromium(mkdtempSync(join(dir, 'profile-')), { viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => void d.accept());

  await page.goto(`${started.base}/`);
  await page.waitForFunction(() => document.getElementById('info')?.textContent?.includes('9 items'));
  assert.equal(await page.isVisible('#writes'), true, 'the write controls show on a writable server');

  await page.fill('#id-input', 'class0/img0.png');
  await page.click('#by-id button[type="submit"]');
  await page.waitForFunction(() => document.querySelectorAll('#results .result .delete').length === 9);
  const victim = (await page.getAttribute('#results .result:nth-child(2)', 'data-id')) as string;

  // No token: the page asks for one and sends nothing; a wrong one: the server's 403.
  await page.click('#results .result:nth-child(2) .delete');
  assert.equal(await page.textContent('#write-status'), 'Enter the write token first');
  await page.fill('#token', 'not-the-token-at-all');
  await page.click('#results .result:nth-child(2) .delete');
  await page.waitForFunction(() => document.getElementById('write-status')?.textContent?.startsWith('403'));
  assert.equal(await page.textContent('#write-status'), "403: the write token is not this server's");

  await page.fill('#token', TOKEN);
  await page.click('#results .result:nth-child(2) .delete');
  await page.waitForFunction((id) => document.getElementById('write-status')?.textContent === `Deleted ${id}`, victim);
  await page.waitForFunction(() => document.getElementById('info')?.textContent?.includes('8 items'));
  assert.equal(await page.$(`#results .result[data-id="${victim}"]`), null);
  const gone = await fetch(`${started.base}/api/items/${encodeURIComponent(victim)}`);
  assert.equal(gone.status, 404);

  // Add: an id, a label, an image dropped (set on the file input): stored, embedded, found first.
  await page.fill('#add-id', 'added/blue.png');
  await page.fill('#add-label', 'added');
  // An image the index does not hold: a copy of an indexed one would tie with it at cosine 1, and which of
  // the two comes first would turn on the last bit of two embeddings made in batches of different sizes.
  const extra = await writeImageFolder(join(dir, 'extra'), 4, 1, { size: 32 });
  await page.setInputFiles('#add-file', join(extra.root, 'class3', 'img0.png'));
  await page.waitForFunction(() => document.getElementById('write-status')?.textContent === 'Added added/blue.png');
  await page.waitForFunction(() => document.getElementById('info')?.textContent?.includes('9 items'));
  await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('for item added/blue.png'));
  assert.equal(await page.getAttribute('#results .result:first-child', 'data-id'), 'added/blue.png');
  assert.equal(await page.textContent('#results .result:first-child .label'), 'added');
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLImageElement>('#results img')].every((i) => i.complete && i.naturalWidth > 0),
  );
  // The token is in no storage of the page.
  const stored = await page.evaluate(
    () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie,
  );
  assert.ok(!stored.includes(TOKEN));
  assert.ok(!writable.log.includes(TOKEN), 'the token is not in the server log');
  assert.deepEqual(pageErrors, []);
  await page.close();
});
