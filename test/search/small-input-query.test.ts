// A small-input model (smallcnn, 28x28 gray) indexing images larger than its input: `index build` and
// `search --image` must put an image through the same transform, so that an item searched by its own
// image finds itself with cosine 1 (the build embedded 40x40 images at 40x40 while queries were resized
// to 28x28: score 0.9968).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { manualSeed } from '../../src/tensor/index.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { type ImageFolder, writeImageFolder } from '../helpers/images.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-small-query-'));
const weights = join(dir, 'smallcnn.safetensors');
const idx = join(dir, 'idx');
let folder: ImageFolder;

before(async () => {
  folder = await writeImageFolder(join(dir, 'images'), 3, 3, { size: 40, noise: 96 });
  manualSeed(5);
  const model = createEmbedder({ arch: 'smallcnn', dim: 16 });
  saveSafetensors(weights, model.stateDict());
  model.dispose();
  const build = ['index', 'build', '--checkpoint', weights, '--arch', 'smallcnn', '--dim', '16'];
  const args = [...build, '--images', folder.root, '--out', idx, '--workers', '1'];
  const r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('smallcnn index of 40x40 images: search --image of an item finds it with score 1', () => {
  for (const id of ['class0/img0.png', 'class2/img1.png']) {
    const args = ['search', '--index', idx, '--image', join(folder.root, id), '-k', '1', '--json'];
    const r = runCli(args);
    assert.equal(r.code, 0, describeRun(args, r));
    const hit = JSON.parse(r.stdout.trim().split('\n')[0] as string).results[0];
    assert.equal(hit.id, id);
    assert.ok(hit.score >= 0.9999, `${id}: score ${hit.score}`);
  }
});
