// A served index survives the death of its worker threads: a `serve` process whose search worker and
// embedding worker are killed by the fault injector (NORMSOFTMAX_FAULT, first life of each thread) answers
// the request in flight 503, logs the restart, reports the part in /health while it is down, and then
// answers again; in process, /health is 503 naming the part for as long as a part is not running.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createSearchServer } from '../../../src/search/server/app.js';
import type { PartHealth } from '../../../src/util/supervised-worker.js';
import { writeImageFolder } from '../../helpers/images.js';
import { buildTinyResnetIndex, ServeProcess } from '../../helpers/serve-process.js';
import { fakeEmbedder, fakeIndex, fixtureItems } from './fake-index.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-recovery-'));
const images = join(dir, 'images');
const idx = join(dir, 'idx');
before(async () => {
  await writeImageFolder(images, 2, 3, { size: 32 });
  buildTinyResnetIndex(dir, images, idx);
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Health {
  status: string;
  error?: string;
  parts: Record<string, PartHealth>;
}

async function health(base: string): Promise<{ code: number; body: Health }> {
  const r = await fetch(`${base}/health`);
  return { code: r.status, body: (await r.json()) as Health };
}

/** Polls /health until it is 200 (at most 60 s); returns every answer seen. */
async function untilHealthy(base: string): Promise<{ code: number; body: Health }[]> {
  const seen: { code: number; body: Health }[] = [];
  for (let i = 0; i < 600; i++) {
    const h = await health(base);
    seen.push(h);
    if (h.code === 200) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`not healthy after 60 s: ${JSON.stringify(seen.at(-1))}`);
}

test('serve recovers from the death of its search worker and of its embedding worker', async () => {
  const { serve, base } = await ServeProcess.start(idx, [], {
    NORMSOFTMAX_FAULT: 'search-worker:search,embed-worker:embed@2', // the first embed is serve's warm-up
  });
  try {
    const id = 'class0/img0.png';
    const search = () =>
      fetch(`${base}/api/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, k: 1 }),
      });
    const dead = await search();
    assert.equal(dead.status, 503);
    assert.equal(dead.headers.get('retry-after'), '1');
    assert.match(((await dead.json()) as { error: string }).error, /^the search worker exited \(code 86\)$/);
    const seen = await untilHealthy(base);
    for (const h of seen.filter((s) => s.code === 503)) {
      assert.equal(h.body.status, 'unavailable');
      assert.match(h.body.error ?? '', /^search worker (restarting|starting)/);
    }
    assert.deepEqual((seen.at(-1) as { body: Health }).body.parts.search, {
      state: 'ok',
      restarts: 1,
      lastExit: 'exited (code 86)',
    });
    const again = await search();
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { results: { id: string }[] }).results[0]?.id, id);

    const upload = () =>
      fetch(`${base}/api/search?k=1`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: readFileSync(join(images, id)),
      });
    const deadEmbed = await upload();
    assert.equal(deadEmbed.status, 503);
    assert.match(((await deadEmbed.json()) as { error: string }).error, /^the embedding worker exited \(code 86\)$/);
    const seenEmbed = await untilHealthy(base);
    assert.ok(
      seenEmbed.some((h) => h.code === 503 && /^embedder worker restarting/.test(h.body.error ?? '')),
      `the restart of the model (seconds) is seen in /health: ${JSON.stringify(seenEmbed.map((h) => h.code))}`,
    );
    assert.equal((seenEmbed.at(-1) as { body: Health }).body.parts.embedder?.restarts, 1);
    const embedded = await upload();
    assert.equal(embedded.status, 200);
    assert.equal(((await embedded.json()) as { results: { id: string }[] }).results[0]?.id, id);
    assert.match(serve.log, /serve: the search worker exited \(code 86\): restarting it\n/);
    assert.match(serve.log, /serve: the search worker is running again \(restart 1\)\n/);
    assert.match(serve.log, /serve: the embedding worker exited \(code 86\): restarting it\n/);
  } finally {
    await serve.stop();
  }
});

test('/health is 503 naming the part while a worker is not running, 200 once it is', async () => {
  const index = fakeIndex(fixtureItems(), null);
  const embedder = fakeEmbedder();
  let search: PartHealth = { state: 'restarting', restarts: 1, lastExit: 'exited (code 86)' };
  let embed: PartHealth = { state: 'ok', restarts: 0, lastExit: null };
  index.health = () => search;
  embedder.health = () => embed;
  const app = createSearchServer({ index, embedder, log: () => {} });
  try {
    const down = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(down.statusCode, 503);
    assert.equal(down.headers['retry-after'], '1');
    assert.equal(down.json().status, 'unavailable');
    assert.equal(down.json().error, 'search worker restarting (exited (code 86))');
    search = { state: 'ok', restarts: 1, lastExit: 'exited (code 86)' };
    embed = { state: 'failed', restarts: 5, lastExit: 'exited (code 1)' };
    const failed = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(failed.statusCode, 503);
    assert.equal(failed.json().error, 'embedder worker failed (exited (code 1))');
    embed = { state: 'ok', restarts: 5, lastExit: 'exited (code 1)' };
    const up = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(up.statusCode, 200);
    assert.equal(up.json().status, 'ok');
    assert.deepEqual(up.json().parts, { search, embedder: embed });
  } finally {
    await app.close();
  }
});
