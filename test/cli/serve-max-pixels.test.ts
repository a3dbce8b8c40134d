// `serve --max-pixels N`: the limit reaches the server (an upload above it gets 413 naming it, before any
// model or decoder is involved), and a value above 0x3FFF^2 (what the decoders take) is a usage error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { describeRun, runCli } from '../helpers/cli.js';
import { ServeProcess } from '../helpers/serve-process.js';
import { randomUnit, write } from '../search/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-serve-max-pixels-'));
const idx = join(dir, 'idx');
before(async () => {
  await write(idx, randomUnit(20, 8, 3), 8);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('--max-pixels 399: a 20 x 20 PNG upload gets 413 naming the limit and the flag', async () => {
  const { serve, base } = await ServeProcess.start(idx, ['--max-pixels', '399']);
  try {
    const png = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const r = await fetch(`${base}/api/search`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: new Uint8Array(png),
    });
    assert.equal(r.status, 413);
    assert.deepEqual(await r.json(), {
      error: 'image: 20 x 20 pixels is above the limit of 399 pixels (--max-pixels)',
      statusCode: 413,
    });
  } finally {
    await serve.stop();
  }
});

test('--max-pixels above 0x3FFF^2 is a usage error (exit 2, one line)', () => {
  const args = ['serve', '--index', idx, '--port', '0', '--max-pixels', '268402690'];
  const r = runCli(args);
  assert.equal(r.code, 2, describeRun(args, r));
  assert.match(r.stderr, /--max-pixels: expected at most 268402689 \(what the decoders take\), got "268402690"/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
