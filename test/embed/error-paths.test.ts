// Embedding for evaluation when the gallery step fails: the query embeddings already computed, the model
// and the batch being embedded are freed, and the error reaches the caller (live tensors back to the
// baseline).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Dataset, RawImage, Sample } from '../../src/data/types.js';
import { embedForEval } from '../../src/embed/embed-for-eval.js';
import { evaluateModel } from '../../src/embed/evaluate-model.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { createEmbedder } from '../../src/nn/index.js';
import { memory, scope, type Tensor } from '../../src/tensor/index.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-embed-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const samples = (split: string, n: number): Sample[] =>
  Array.from({ length: n }, (_, i) => ({ path: `mem:${split}/${i}`, label: i % 3 }));

/** An In-Shop-like in-memory data set (query and gallery) whose gallery images cannot be read when `badGallery`. */
function dataset(badGallery: boolean): Dataset {
  return {
    name: 'memory',
    root: dir,
    splits: { train: samples('train', 6), query: samples('query', 6), gallery: samples('gallery', 9) },
    readRaw: (s: Sample): RawImage => {
      if (badGallery && s.path.startsWith('mem:gallery/')) throw new Error(`${s.path}: unreadable`);
      const seed = s.path.length + Number(s.path.split('/')[1]);
      return {
        data: Uint8Array.from({ length: 28 * 28 }, (_, i) => (i * 7 + seed * 31) & 255),
        width: 28,
        height: 28,
        channels: 1,
      };
    },
  };
}

const PIPELINE = { seed: 0, resize: 0, crop: 0, workers: 0, skipBadImages: false, k: [1] };

test('evaluateModel: a gallery that cannot be read frees the query embeddings (memory flat)', async () => {
  const model = createEmbedder({ arch: 'smallcnn', dim: 8 });
  const good = await evaluateModel(model, dataset(false), PIPELINE, { silent: true, binary: false });
  assert.ok(good.float.recall['1'] !== undefined);
  const baseline = memory().liveTensors;
  for (let i = 0; i < 3; i++) {
    await assert.rejects(evaluateModel(model, dataset(true), PIPELINE, { silent: true }), /mem:gallery\/0: unreadable/);
  }
  assert.equal(memory().liveTensors, baseline);
  model.dispose();
});

test('evaluateModel: a forward that throws on the gallery frees the query embeddings and the batch (memory flat)', async () => {
  const model = createEmbedder({ arch: 'smallcnn', dim: 8 });
  const forward = model.forward.bind(model);
  let calls = 0;
  model.forward = (x: Tensor) => {
    if (calls++ % 2 === 1) throw new Error('forward failed on the gallery');
    return forward(x);
  };
  const baseline = memory().liveTensors;
  for (let i = 0; i < 3; i++) {
    await assert.rejects(
      evaluateModel(model, dataset(false), PIPELINE, { silent: true }),
      /forward failed on the gallery/,
    );
  }
  assert.equal(calls, 6);
  assert.equal(memory().liveTensors, baseline);
  assert.equal(model.training, true, 'the model is back in its mode');
  model.dispose();
});

test('embedForEval: a gallery that cannot be read frees the query embeddings and the model (memory flat)', async () => {
  const path = join(dir, 'smallcnn.safetensors');
  scope(() => {
    const model = createEmbedder({ arch: 'smallcnn', dim: 8 });
    saveSafetensors(path, model.stateDict());
    model.dispose();
  });
  const ok = await embedForEval({ checkpoint: path, arch: 'smallcnn', dim: 8, dataset: dataset(false), silent: true });
  assert.deepEqual(ok.query.embeddings.shape, [6, 8]);
  assert.deepEqual(ok.gallery?.embeddings.shape, [9, 8]);
  ok.query.embeddings.dispose();
  ok.gallery?.embeddings.dispose();
  const baseline = memory().liveTensors;
  for (let i = 0; i < 3; i++) {
    await assert.rejects(
      embedForEval({ checkpoint: path, arch: 'smallcnn', dim: 8, dataset: dataset(true), silent: true }),
      /mem:gallery\/0: unreadable/,
    );
  }
  assert.equal(memory().liveTensors, baseline);
});
