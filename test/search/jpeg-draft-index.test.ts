// index build --jpeg-draft: the manifest records it, `search --image` decodes a JPEG query the same way
// (an item finds itself with score 1), a rebuild without it embeds everything again, and `embed
// --jpeg-draft` gives other vectors than a full decode of the same photos.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { loadNpy } from '../../src/io/npy.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { manualSeed } from '../../src/tensor/index.js';
import { describeRun, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-jpeg-draft-'));
const weights = join(dir, 'smallcnn.safetensors');
const images = join(dir, 'images');
const idx = join(dir, 'idx');
const IDS = ['a/0.jpg', 'a/1.jpg', 'b/0.jpg', 'b/1.jpg'];

/** A 240x180 photo-like JPEG: smooth colour fields, an edge and noise (draft scale 4 for a 28 px resize). */
async function writePhoto(path: string, seed: number): Promise<void> {
  const w = 240;
  const h = 180;
  const px = new Uint8Array(w * h * 3);
  let state = seed * 2654435761 || 1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const o = (y * w + x) * 3;
      const edge = x > w / 3 + seed * 10 ? 80 : 0;
      px[o] = (128 + 100 * Math.sin(x / (9 + seed) + y / 31) + (state % 17)) & 255;
      px[o + 1] = (60 + edge + 60 * Math.cos(y / (7 + seed))) & 255;
      px[o + 2] = ((x * 255) / w) & 255;
    }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 85 })
    .toFile(path);
}

const cli = (args: string[]) => {
  const r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
  return r;
};
/** The model and the photos, as both commands take them. */
const MODEL_AND_IMAGES = () => ['--checkpoint', weights, '--arch', 'smallcnn', '--dim', '16', '--images', images];
const build = (...extra: string[]) =>
  cli(['index', 'build', ...MODEL_AND_IMAGES(), '--out', idx, '--workers', '1', ...extra]);
const manifest = () => JSON.parse(readFileSync(join(idx, 'manifest.json'), 'utf8'));

before(async () => {
  for (const [i, id] of IDS.entries()) {
    mkdirSync(join(images, id.split('/')[0] as string), { recursive: true });
    await writePhoto(join(images, id), i + 1);
  }
  manualSeed(11);
  const model = createEmbedder({ arch: 'smallcnn', dim: 16 });
  saveSafetensors(weights, model.stateDict());
  model.dispose();
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('a --jpeg-draft index records it, and a JPEG query decoded the same way finds its item with score 1', () => {
  build('--jpeg-draft');
  assert.equal(manifest().embedder.jpegDraft, true);
  for (const id of ['a/1.jpg', 'b/0.jpg']) {
    const r = cli(['search', '--index', idx, '--image', join(images, id), '-k', '1', '--json']);
    const hit = JSON.parse(r.stdout.trim().split('\n')[0] as string).results[0];
    assert.equal(hit.id, id);
    // the same vector to float rounding; a full-size decode of the query scores about 0.99999 here
    assert.ok(hit.score >= 0.9999995, `${id}: score ${hit.score}`);
  }
  // the same index built again without the flag is another pipeline: every item embedded again
  const again = build();
  assert.match(again.stderr, /built with draft JPEG decoding \(--jpeg-draft\); embedding every item/);
  assert.equal(manifest().embedder.jpegDraft, undefined);
});

test('embed --jpeg-draft gives the draft vectors: close to, but not, the full-decode ones', () => {
  const vectors = (name: string, ...extra: string[]) => {
    const out = join(dir, name);
    cli(['embed', ...MODEL_AND_IMAGES(), '--out', out, ...extra]);
    const t = loadNpy(out);
    const data = t.toTypedArray() as Float32Array;
    t.dispose();
    return data;
  };
  const draft = vectors('draft.npy', '--jpeg-draft');
  const whole = vectors('whole.npy');
  assert.equal(draft.length, IDS.length * 16);
  let minCos = 1;
  for (let r = 0; r < IDS.length; r++) {
    let dot = 0;
    for (let i = 0; i < 16; i++) dot += (draft[r * 16 + i] as number) * (whole[r * 16 + i] as number);
    minCos = Math.min(minCos, dot);
  }
  assert.notDeepEqual(draft, whole);
  assert.ok(minCos > 0.9 && minCos < 0.999999, `min cosine ${minCos}`);
});
