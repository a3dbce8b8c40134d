// The library's public API (src/api), in process: train() runs what `normsoftmax train` runs; loadEmbedder
// embeds files and bytes to the same vectors, equal to `normsoftmax embed`'s; evaluate() on plain arrays
// equals the eval module on tensors; openIndex searches by id, vector and image.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildIndex, embedImages, evaluate, loadEmbedder, openIndex, serve, train } from '../../src/api/index.js';
import { imageFolder } from '../../src/embed/image-folder.js';
import { runEmbed } from '../../src/embed/run-embed.js';
import { loadNpy } from '../../src/io/npy.js';
import { tinyFashionRoot } from '../experiment/tiny-mnist.js';
import { writeImageFolder } from '../helpers/images.js';
import { writeResnetWeights } from '../helpers/weights.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-api-'));
const images = join(dir, 'images');
let weights: string;
let paths: string[];
before(async () => {
  const folder = await writeImageFolder(images, 2, 3, { size: 48 });
  paths = folder.paths;
  weights = writeResnetWeights(join(dir, 'r18.safetensors'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);
/** libtorch's kernels may sum in another order for another batch size: equal to float32 rounding. */
const assertClose = (a: Float32Array | undefined, b: Float32Array | undefined, what: string) => {
  assert.equal(a?.length, b?.length, what);
  for (const [i, x] of (a ?? []).entries()) {
    assert.ok(Math.abs(x - (b?.[i] as number)) < 1e-5, `${what}: ${x} vs ${b?.[i]}`);
  }
};

test('train(): the options of `train` in camelCase; writes the checkpoint, metrics and report; evaluates', async () => {
  const root = tinyFashionRoot(12);
  try {
    const out = join(dir, 'run');
    const r = await train({
      dataset: 'fashion-mnist',
      root,
      out,
      arch: 'smallcnn',
      dim: 16,
      batchSize: 10,
      imagesPerClass: 2,
      lr: 0.05,
      numSteps: 1,
      epochsPerStep: 1,
      warmupEpochs: 0,
    });
    assert.equal(r.config.dim, 16);
    assert.equal(r.config.temperature, 0.05, 'defaults fill what is not given');
    for (const f of [r.checkpoint, r.report, join(out, 'metrics.jsonl')]) assert.ok(existsSync(f), f);
    assert.ok(r.lastEval !== null);
    const recall1 = r.lastEval?.float.recall['1'] as number;
    assert.ok(recall1 >= 0 && recall1 <= 100);
    await assert.rejects(train({ dataset: 'fashion-mnist', root, out, lr: -1 }), /lr.*expected/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('loadEmbedder: files and their bytes give the same unit vectors, equal to `embed`; embedImages in one call', async () => {
  const embedder = await loadEmbedder(weights, { arch: 'resnet18', dim: 16, engine: 'libtorch' });
  try {
    assert.equal(embedder.dim, 16);
    assert.equal(embedder.identity.arch, 'resnet18');
    const fromFiles = await embedder.embedImages(paths);
    const mixed = await embedder.embedImages([paths[0] as string, new Uint8Array(readFileSync(paths[1] as string))]);
    for (const v of fromFiles) assert.ok(Math.abs(cosine(v, v) - 1) < 1e-5);
    assertClose(mixed[0], fromFiles[0], 'a file in a batch of 2 and of 6');
    assert.ok(cosine(mixed[1] as Float32Array, fromFiles[1] as Float32Array) > 0.99999, 'bytes embed as the file');
    const out = join(dir, 'x.npy');
    const { dataset, samples } = imageFolder(images);
    await runEmbed({
      checkpoint: weights,
      arch: 'resnet18',
      dim: 16,
      engine: 'libtorch',
      dataset,
      samples,
      out,
      silent: true,
    });
    const written = loadNpy(out).toTypedArray() as Float32Array;
    fromFiles.forEach((v, i) => {
      assert.deepEqual(v, written.slice(i * 16, (i + 1) * 16), `row ${i}`);
    });
    const once = await embedImages(weights, [paths[2] as string], { arch: 'resnet18', dim: 16, engine: 'libtorch' });
    assertClose(once[0], fromFiles[2], 'embedImages');
  } finally {
    await embedder.close();
  }
});

test('evaluate(): plain arrays, one set or query/gallery, Recall@K by hand', () => {
  // Class 0 at angles 0 and 10 degrees, class 1 at 80 and 90; a third class-0 point at 55 degrees has both
  // class-1 points nearer than any of its class (80 and 90, then 10): it misses at K = 1 and 2, not at 4.
  const at = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
  const vectors = [at(0), at(10), at(80), at(90), at(55)];
  const labels = [0, 0, 1, 1, 0];
  const r = evaluate({ vectors, labels }, { k: [1, 2, 4] });
  assert.equal(r.float.recall['1'], 80);
  assert.equal(r.float.recall['2'], 80);
  assert.equal(r.float.recall['4'], 100);
  const two = evaluate(
    { query: { vectors: [at(5), at(85)], labels: [0, 1] }, gallery: { vectors, labels } },
    { k: [1] },
  );
  assert.equal(two.float.recall['1'], 100);
  assert.throws(() => evaluate({ vectors: new Float32Array(5), labels: [0, 1] }), /5 values do not make 2 rows/);
});

test('buildIndex, openIndex (id, vector, image), serve: the index finds its items; the service answers', async () => {
  const out = join(dir, 'idx');
  const built = await buildIndex({ out, images, checkpoint: weights, arch: 'resnet18', dim: 16, engine: 'libtorch' });
  assert.deepEqual(
    { items: built.items, embedded: built.embedded, generation: built.generation },
    { items: 6, embedded: 6, generation: 1 },
  );
  const again = await buildIndex({ out, images, checkpoint: weights, arch: 'resnet18', dim: 16, engine: 'libtorch' });
  assert.deepEqual({ embedded: again.embedded, reused: again.reused }, { embedded: 0, reused: 6 });
  await assert.rejects(buildIndex({ out, checkpoint: weights }), /give exactly one source/);

  const index = await openIndex(out, { engine: 'libtorch' });
  try {
    const id = 'class1/img2.png';
    const byId = await index.search({ id, k: 2 });
    assert.equal(byId.results[0]?.id, id);
    assert.ok(Math.abs((byId.results[0]?.score as number) - 1) < 1e-5);
    const [own] = await embedImages(weights, [join(images, id)], { arch: 'resnet18', dim: 16, engine: 'libtorch' });
    const byVector = (await index.search({ vector: Array.from(own as Float32Array), k: 1 })).results[0];
    assert.equal(byVector?.id, id);
    assert.ok((byVector?.score as number) > 0.99999);
    const byImage = await index.search({ image: join(images, id), k: 1 });
    assert.equal(byImage.results[0]?.id, id);
    const filtered = await index.search({ id, k: 6, where: "path LIKE 'class0/%'" });
    assert.deepEqual(
      filtered.results.map((h) => h.id.split('/')[0]),
      ['class0', 'class0', 'class0'],
    );
    await assert.rejects(index.search({ id: 'nope', k: 1 }), /no item with id "nope"/);
  } finally {
    await index.close();
  }

  const service = await serve({ index: out, port: 0, engine: 'libtorch', browserEmbed: false, log: () => {} });
  try {
    assert.match(service.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`${service.url}/health`)).status, 200);
    const r = await fetch(`${service.url}/api/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'class0/img1.png', k: 1 }),
    });
    assert.equal(((await r.json()) as { results: { id: string }[] }).results[0]?.id, 'class0/img1.png');
  } finally {
    await service.close();
  }
});
