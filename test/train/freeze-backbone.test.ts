// --freeze-backbone (issue 20 point 4): the training split is embedded once by the frozen backbone (eval
// transform) and cached under $NORMSOFTMAX_HOME/features; the head trains on those rows and the run
// evaluates end to end. Checked: the backbone's weights are those it started from, the head's are not;
// the cached rows are the backbone's features of the eval-transformed images; a second run reads the
// cache (same losses), and a run from other weights gets another file.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createBatchSource } from '../../src/data/sources/batch-source.js';
import { loadNpy } from '../../src/io/npy.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { manualSeed, noGrad, scope } from '../../src/tensor/index.js';
import { featureCacheDir } from '../../src/train/feature-cache.js';
import { runSession } from '../../src/train/session.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { tinyTrainConfig } from '../helpers/tiny-train-config.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-freeze-'));
const home = process.env.NORMSOFTMAX_HOME;
before(() => {
  process.env.NORMSOFTMAX_HOME = join(dir, 'home');
});
after(() => {
  if (home === undefined) delete process.env.NORMSOFTMAX_HOME;
  else process.env.NORMSOFTMAX_HOME = home;
  rmSync(dir, { recursive: true, force: true });
});

const config = (out: string, seed = 0) =>
  tinyTrainConfig({
    out: join(dir, out),
    freezeBackbone: true,
    warmupEpochs: 1,
    numSteps: 3,
    k: [1],
    seed,
    evalEvery: 4,
  });

const losses = (out: string) =>
  readFileSync(join(dir, out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'epoch')
    .map((r) => r.loss as number);

test('head-only training on cached features: trains, evaluates, leaves the backbone as it was', async () => {
  const lines: string[] = [];
  const dataset = syntheticDataset();
  const result = await runSession(config('a'), { dataset, log: (l) => lines.push(l), silent: false });
  try {
    assert.ok(lines.some((l) => /--freeze-backbone: 48 training images embedded once into .*features.*\.npy/.test(l)));
    assert.equal(losses('a').length, 4);
    assert.ok((result.lastEval?.float.recall['1'] ?? 0) > 0, `evaluated: ${JSON.stringify(result.lastEval)}`);
    // The same seed draws the same backbone: compare with a fresh one that never trained.
    const again = await runSession(config('b'), { dataset, log: (l) => lines.push(l), silent: false });
    try {
      assert.ok(
        lines.some((l) => /48 training images read from/.test(l)),
        'the second run reads the cache',
      );
      assert.deepEqual(losses('b'), losses('a'));
      // The session seeds, then builds the model: the same draws give the backbone it started from.
      manualSeed(0);
      const fresh = createEmbedder({ arch: 'smallcnn', dim: 16 });
      const start = new Map([...fresh.namedParameters(), ...fresh.namedBuffers()]);
      let backbone = 0;
      let head = 0;
      for (const [name, t] of [...result.model.namedParameters(), ...result.model.namedBuffers()]) {
        const same = JSON.stringify(t.toArray()) === JSON.stringify(start.get(name)?.toArray());
        if (name.startsWith('backbone.')) {
          assert.ok(same, `${name} changed`);
          backbone++;
        } else if (!same) head++;
      }
      assert.ok(backbone > 10 && head > 0, `${backbone} backbone tensors kept, ${head} head tensors trained`);
      fresh.dispose();
    } finally {
      again.model.dispose();
    }
    // The cached rows are the backbone's features of the eval-transformed images, in sample order.
    const files = readdirSync(featureCacheDir());
    assert.equal(files.length, 1);
    const cached = loadNpy(join(featureCacheDir(), files[0] as string));
    const train = dataset.splits.train ?? [];
    const source = createBatchSource(dataset, train.slice(0, 5), result.model.input, config('a'), 'eval');
    for await (const batch of source.ordered(5)) {
      scope(() =>
        noGrad(() => {
          const want = result.model.eval().backbone.features(batch.images);
          const got = cached.narrow(0, 0, 5);
          const d = got.sub(want).abs().max().item();
          assert.ok(d < 1e-5, `cached features differ by ${d}`);
        }),
      );
      batch.images.dispose();
      batch.labels.dispose();
    }
    await source.dispose?.();
    cached.dispose();
  } finally {
    result.model.dispose();
  }
  // Another backbone (seed) is another file.
  const other = await runSession(config('c', 1), { dataset, silent: true });
  other.model.dispose();
  assert.equal(readdirSync(featureCacheDir()).length, 2);
  assert.ok(existsSync(join(dir, 'c', 'last.safetensors')));
});
