// runEmbed (the work of `normsoftmax embed`, src/embed/run-embed.ts) as a library call: X.npy holds what the
// one embedding loop gives for the folder's images, X.json their paths and folder labels; in a
// data-parallel job (an in-process world here; test/parallel/embed.test.ts runs the real one) rank 0 writes
// the rows of one process and the other ranks write nothing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { embedSamples, pipelineOf } from '../../src/embed/embed-samples.js';
import { imageFolder } from '../../src/embed/image-folder.js';
import { openEngine } from '../../src/embed/open-engine.js';
import { runEmbed } from '../../src/embed/run-embed.js';
import { loadNpy } from '../../src/io/npy.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { Generator } from '../../src/tensor/index.js';
import { fakeWorld } from '../helpers/fake-shards.js';
import { writeImageFolder } from '../helpers/images.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-run-embed-'));
const weights = join(dir, 'cnn.safetensors');
const images = join(dir, 'images');
let expected: Float32Array;
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await writeImageFolder(images, 2, 3, { size: 32, noise: 160 });
  const model = createEmbedder({ arch: 'smallcnn', dim: 8, generator: new Generator(11) });
  saveSafetensors(weights, model.stateDict());
  model.dispose();
  const { engine, input, config } = await openEngine(weights, { engine: 'libtorch', arch: 'smallcnn', dim: 8 });
  const { dataset, samples } = imageFolder(images);
  try {
    expected = await embedSamples(engine, input, dataset, samples, { pipeline: pipelineOf(config), silent: true });
  } finally {
    engine.dispose();
  }
  // Rows differ from each other, so that a shifted or misplaced row shows.
  for (let r = 1; r < 6; r++) {
    const d = expected
      .subarray(r * 8, r * 8 + 8)
      .reduce((m, v, i) => Math.max(m, Math.abs(v - (expected[i] as number))), 0);
    assert.ok(d > 1e-3, `row ${r} vs row 0: ${d}`);
  }
});

const npyRows = (path: string) => loadNpy(path);
/** Largest difference to the rows embedded in one go (a shifted, missing or padded row differs by ~0.1). */
function largestDifference(got: Float32Array): number {
  assert.equal(got.length, expected.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (expected[i] as number)));
  return worst;
}

test("X.npy: the loop's rows for the folder; X.json: sorted paths and folder labels; the model line logged", async () => {
  const out = join(dir, 'one', 'x.npy');
  mkdirSync(join(dir, 'one'));
  const lines: string[] = [];
  const { dataset, samples } = imageFolder(images);
  const r = await runEmbed({
    checkpoint: weights,
    arch: 'smallcnn',
    dim: 8,
    dataset,
    samples,
    out,
    engine: 'libtorch',
    batchSize: 4,
    silent: true,
    log: (l) => lines.push(l),
  });
  assert.deepEqual(r, { rows: 6, dim: 8, out, sidecar: join(dir, 'one', 'x.json') });
  const t = npyRows(out);
  assert.deepEqual(t.shape, [6, 8]);
  assert.ok(
    largestDifference(t.toTypedArray() as Float32Array) <= 1e-6,
    'batches of 4 give the rows of batches of 128',
  );
  t.dispose();
  const side = JSON.parse(readFileSync(join(dir, 'one', 'x.json'), 'utf8'));
  assert.deepEqual(side.labels, [0, 0, 0, 1, 1, 1]);
  assert.deepEqual(
    side.paths,
    samples.map((s) => s.path),
  );
  assert.ok(
    side.paths.every((p: string, i: number) => i === 0 || p > (side.paths[i - 1] as string)),
    'sorted',
  );
  assert.equal(lines.length, 1);
  assert.match(lines[0] as string, /^model: .*cnn\.safetensors \(bare smallcnn weights, dim 8\)$/);
});

test('in a job of 4 ranks: rank 0 writes the rows of one process and says so once; the others write nothing', async () => {
  const { shards } = fakeWorld(4);
  const lines: string[] = [];
  const { dataset, samples } = imageFolder(images);
  const results = await Promise.all(
    shards.map((shard) => {
      const out = join(dir, `rank${shard.rank}`, 'x.npy');
      mkdirSync(join(dir, `rank${shard.rank}`));
      return runEmbed({
        checkpoint: weights,
        arch: 'smallcnn',
        dim: 8,
        dataset,
        samples,
        out,
        engine: 'libtorch',
        silent: true,
        shard,
        log: (l) => lines.push(`${shard.rank}: ${l}`),
      });
    }),
  );
  assert.equal(results[0]?.rows, 6);
  assert.deepEqual(results.slice(1), [null, null, null]);
  const t = npyRows(join(dir, 'rank0', 'x.npy'));
  const got = t.toTypedArray() as Float32Array;
  t.dispose();
  const worst = largestDifference(got);
  assert.ok(worst <= 1e-6, `largest difference ${worst}`);
  for (const r of [1, 2, 3]) assert.deepEqual(readdirSync(join(dir, `rank${r}`)), []);
  assert.deepEqual(
    lines.map((l) => l.slice(0, 9)),
    ['0: model:'],
  );
});
