// `index build` / `serve` / the page with a ViT model (issue 20): a normsoftmax checkpoint of a randomly
// initialised DINO ViT-S/16 (8-d head, its run's eval pipeline resize 40 / crop 32, so that a forward is 2 x 2
// patches and the test takes seconds) indexes a folder of generated images on the default engine; `serve`
// over that index answers a query image uploaded through the HTTP API with the same results and scores as
// `search --image` on the command line, offers the same model to the page for in-browser embedding with
// DINO's preprocessing (shorter side 40, bicubic, centre 32, ImageNet statistics), and in headless
// Chromium the page embeds the dropped image itself (onnxruntime-web), finds the same results and posts
// only the vector (skips without Chromium, except under CI).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import sharp from 'sharp';
import type { SamplerState } from '../../../src/data/samplers/types.js';
import { createEmbedder } from '../../../src/nn/embedder.js';
import { manualSeed } from '../../../src/tensor/index.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, saveCheckpoint } from '../../../src/train/checkpoint.js';
import { resolveConfig } from '../../../src/train/config.js';
import { CHROMIUM, chromiumMissing, chromiumSkip, embedInPage, launchChromium } from '../../helpers/chromium.js';
import { describeRun, runCli } from '../../helpers/cli.js';
import { writeImageFolder } from '../../helpers/images.js';
import { ServeProcess } from '../../helpers/serve-process.js';
import { multipart, type SearchAnswer } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-vit-serve-'));
const images = join(dir, 'images');
const queryDir = join(dir, 'query');
const queryPng = join(queryDir, 'q.png');
const checkpoint = join(dir, 'vit.safetensors');
const idx = join(dir, 'idx');
let server: ServeProcess | null = null;
let base = '';
let context: BrowserContext | null = null;

const cli = (args: string[]) => {
  const r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
  return r;
};

before(async () => {
  await writeImageFolder(images, 3, 3, { size: 48 });
  // A query that is not in the index, non-square: the shorter-side resize and the crop both act.
  mkdirSync(queryDir, { recursive: true });
  const [w, h] = [57, 44];
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      px[i] = (x * 5) % 256;
      px[i + 1] = (y * 7 + (x % 5) * 30) % 256;
      px[i + 2] = ((x + 2 * y) * 3) % 256;
    }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(queryPng);
  // The checkpoint a training run would write, with a random ViT: its config gives arch, dim and pipeline.
  manualSeed(20);
  const model = createEmbedder({ arch: 'dino_vits16', dim: 8 });
  const config = resolveConfig({
    flags: { dataset: 'fashion-mnist', arch: 'dino_vits16', dim: 8, resize: 40, crop: 32, out: dir },
  });
  saveCheckpoint(checkpoint, {
    meta: {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      config,
      epochsDone: 1,
      numClasses: 3,
      step: 1,
      optimizer: null,
      sampler: { kind: 'balanced', config: {}, epoch: 1, batch: 0 } as unknown as SamplerState,
      lossRng: null,
      lastEval: null,
      savedAt: new Date(0).toISOString(),
    },
    model: model.stateDict(),
    loss: {},
    optimizer: {},
    torchRng: null,
  });
  model.dispose();
  cli(['index', 'build', '--out', idx, '--checkpoint', checkpoint, '--images', images, '--workers', '1']);
  const started = await ServeProcess.start(idx);
  server = started.serve;
  base = started.base;
});

after(async () => {
  await context?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Hit = { id: string; score: number };

/** `search --image A --image B ...` on the command line: ids and scores, one list per image. */
function cliSearch(queries: string[], k: number): Hit[][] {
  const r = cli(['search', '--index', idx, ...queries.flatMap((q) => ['--image', q]), '-k', String(k), '--json']);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { results: Hit[] }).results.map(({ id, score }) => ({ id, score })));
}

async function httpSearch(image: string, k: number): Promise<Hit[]> {
  const { payload, headers } = multipart({ k: String(k) }, { bytes: readFileSync(image) });
  const r = await fetch(`${base}/api/search`, { method: 'POST', headers, body: new Uint8Array(payload) });
  assert.equal(r.status, 200, await r.clone().text());
  return ((await r.json()) as SearchAnswer).results.map(({ id, score }) => ({ id, score }));
}

test('a ViT index: an image uploaded to serve finds what search --image finds, score for score', async () => {
  // The index records the ViT and its pipeline (DINO's: shorter side, bicubic).
  const { embedder } = JSON.parse(readFileSync(join(idx, 'manifest.json'), 'utf8'));
  assert.deepEqual(
    [
      embedder.arch,
      embedder.dim,
      embedder.resize,
      embedder.crop,
      embedder.input.resizeMode,
      embedder.input.resizeFilter,
    ],
    ['dino_vits16', 8, 40, 32, 'shorter', 'bicubic'],
  );
  const queries = [queryPng, join(images, 'class1', 'img2.png')];
  const cliResults = cliSearch(queries, 9);
  assert.equal(cliResults.length, 2);
  for (const [q, image] of queries.entries()) {
    const onCli = cliResults[q] as Hit[];
    const overHttp = await httpSearch(image, 9);
    assert.equal(onCli.length, 9);
    assert.deepEqual(
      overHttp.map((h) => h.id),
      onCli.map((h) => h.id),
    );
    for (const [i, h] of overHttp.entries()) {
      assert.ok(
        Math.abs(h.score - (onCli[i]?.score as number)) < 1e-5,
        `${image} #${i}: ${h.score} vs ${onCli[i]?.score}`,
      );
    }
  }
  // An indexed image finds itself first, with cosine 1.
  const self = await httpSearch(join(images, 'class1', 'img2.png'), 1);
  assert.equal(self[0]?.id, 'class1/img2.png');
  assert.ok(Math.abs((self[0]?.score as number) - 1) < 1e-4);
});

test("serve offers the ViT to the page with DINO's preprocessing", async () => {
  const info = (await (await fetch(`${base}/api/info`)).json()) as {
    browserEmbed: {
      arch: string;
      dim: number;
      bytes: number;
      defaultOn: boolean;
      preprocessing: Record<string, unknown>;
    };
  };
  const b = info.browserEmbed;
  assert.equal(b.arch, 'dino_vits16');
  assert.equal(b.dim, 8);
  // ViT-S/16: 22M float32 parameters, under the page's 100 MiB default.
  assert.ok(b.bytes > 80e6 && b.bytes < 100 * 1024 * 1024, String(b.bytes));
  assert.equal(b.defaultOn, true);
  assert.deepEqual(
    {
      resize: b.preprocessing.resize,
      crop: b.preprocessing.crop,
      filter: b.preprocessing.filter,
      mode: b.preprocessing.resizeMode,
    },
    { resize: 40, crop: 32, filter: 'bicubic', mode: 'shorter' },
  );
  const model = await fetch(`${base}/api/model.onnx`);
  assert.equal(model.status, 200);
  assert.equal((await model.arrayBuffer()).byteLength, b.bytes);
});

test('the page embeds a dropped image with the ViT in Chromium: the results of the server, only the vector sent', {
  skip: chromiumSkip,
  timeout: 300_000,
}, async () => {
  assert.ok(!chromiumMissing, `Chromium is required under CI: not found at ${CHROMIUM}`);
  const onServer = await httpSearch(queryPng, 9);
  context = await launchChromium(mkdtempSync(join(dir, 'profile-')));
  const searches: { type: string; body: string }[] = [];
  context.on('request', (req) => {
    if (req.url().endsWith('/api/search')) {
      searches.push({ type: req.headers()['content-type'] ?? '', body: req.postData() ?? '' });
    }
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.getElementById('info')?.textContent?.includes('9 items'));
  assert.equal(await page.isChecked('#browser-embed'), true);
  const vector = await embedInPage(page, queryPng);
  assert.equal(vector.length, 8);
  const inBrowser = await page.$$eval('#results .result', (els) =>
    els.map((el) => [el.getAttribute('data-id'), el.querySelector('.score')?.textContent]),
  );
  assert.deepEqual(
    inBrowser.map((r) => r[0]),
    onServer.map((h) => h.id),
  );
  // Scores shown to 4 decimals: equal to the server's up to one unit in the last place.
  inBrowser.forEach((r, i) => {
    const shown = Number(String(r[1]).replace('cosine ', ''));
    assert.ok(
      Math.abs(shown - (onServer[i]?.score as number)) <= 1.5e-4,
      `score ${i}: ${shown} vs ${onServer[i]?.score}`,
    );
  });
  assert.equal(searches.length, 1);
  assert.match(searches[0]?.type ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(JSON.parse(searches[0]?.body ?? '{}')).sort(), ['k', 'mode', 'vector']);
  assert.deepEqual(pageErrors, []);
});
