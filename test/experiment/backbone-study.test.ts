// The `backbone` study on real Fashion-MNIST (issue 20 point 4: head-only training must train and evaluate
// end to end on the demo's study): a 60-per-class subset of the installed package, the demo's recipe at the
// quick budget with a 64-d projection (at the small CNN's width, 128, the head would have no projection to
// train), from bare small-CNN weights given as --pretrained. Checked: both points train and evaluate; the
// frozen point trains its head (its loss falls), keeps the backbone, and retrieves the 5 unseen classes far
// above chance; its feature cache is keyed by the weights' SHA-256 and the transform: a second study reads
// the frozen point run again reads the same file (same
// result), other weights bytes make another.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEMO_CONFIG } from '../../src/cli/commands/demo.js';
import { loadDataset } from '../../src/data/formats/index.js';
import { studyBaseConfig } from '../../src/experiment/budget.js';
import { type StudyPoint, studyGrid } from '../../src/experiment/grids.js';
import { pointConfig, runStudy } from '../../src/experiment/runner.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { manualSeed, noGrad } from '../../src/tensor/index.js';
import { featureCacheDir } from '../../src/train/feature-cache.js';
import { type EpochRecord, readMetrics } from '../../src/train/metrics.js';
import { runSession } from '../../src/train/session.js';
import { fashionSubsetRoot } from './fashion-subset.js';

const PER_CLASS = 60;
const root = fashionSubsetRoot(PER_CLASS);
const weights = join(root, 'smallcnn.safetensors');
const otherWeights = join(root, 'smallcnn-other.safetensors');
const home = process.env.NORMSOFTMAX_HOME;

before(() => {
  process.env.NORMSOFTMAX_HOME = join(root, 'home');
  manualSeed(11);
  const model = createEmbedder({ arch: 'smallcnn' });
  saveSafetensors(weights, model.backbone.stateDict());
  // The same weights but one tensor: other bytes, another SHA-256.
  const state = model.backbone.stateDict();
  noGrad(() => Object.values(state)[0]?.add_(0.5));
  saveSafetensors(otherWeights, state);
  model.dispose();
});
after(() => {
  if (home === undefined) delete process.env.NORMSOFTMAX_HOME;
  else process.env.NORMSOFTMAX_HOME = home;
  rmSync(root, { recursive: true, force: true });
});

const dataset = loadDataset('fashion-mnist', root);
const base = (pretrained: string) =>
  studyBaseConfig({
    dataset: 'fashion-mnist',
    budget: 'quick',
    mnistRecipe: DEMO_CONFIG,
    flags: { root, pretrained, dim: 64, epochsPerStep: 4, threads: 2 },
  });
/** The frozen point alone, as the study runs it, into OUT/backbone-frozen. */
const frozenPoint = async (out: string, pretrained: string) => {
  const lines: string[] = [];
  const b = base(pretrained);
  const point = studyGrid('backbone', { base: b, numClasses: 5 }).points[1] as StudyPoint;
  const config = pointConfig(b, point, join(root, out));
  const s = await runSession(config, { dataset, silent: false, log: (l) => lines.push(l) });
  s.model.dispose();
  return { eval: s.lastEval, lines };
};
const study = async (out: string) => {
  const lines: string[] = [];
  const r = await runStudy({
    study: 'backbone',
    base: base(weights),
    budget: 'quick',
    dataset,
    out: join(root, out),
    silent: false,
    log: (l) => lines.push(l),
  });
  return { r, lines };
};
const cacheFiles = () => (existsSync(featureCacheDir()) ? readdirSync(featureCacheDir()).sort() : []);

test('backbone study: fine-tuned and frozen points train and evaluate; the frozen one from cached features', {
  timeout: 120_000,
}, async () => {
  assert.equal(dataset.splits.train?.length, 5 * PER_CLASS);
  assert.equal(dataset.splits.test?.length, 5 * PER_CLASS);
  const { r, lines } = await study('s1');
  assert.deepEqual(
    r.rows.map((row) => [row.point, row.setting]),
    [
      ['backbone-trained', { freezeBackbone: false }],
      ['backbone-frozen', { freezeBackbone: true }],
    ],
  );
  const frozen = r.rows[1] as (typeof r.rows)[number];
  const embedded = lines.filter((l) => l.startsWith('--freeze-backbone: '));
  assert.equal(embedded.length, 1, lines.join('\n'));
  assert.match(embedded[0] ?? '', /^--freeze-backbone: 300 training images embedded once into .*\.npy/);
  const files = cacheFiles();
  assert.equal(files.length, 1);

  // Chance for R@1 with 5 classes of 60 (query excluded) is 59/299 = 19.7%; the frozen point is far above.
  const r1 = frozen.float.recall['1'] ?? 0;
  console.log(
    `R@1 float / binary: frozen ${r1} / ${frozen.binary.recall['1']}, fine-tuned ${r.rows[0]?.float.recall['1']} / ${r.rows[0]?.binary.recall['1']}`,
  );
  assert.ok(r1 > 19.7 + 30, `frozen R@1 ${r1}`);
  // The head trained: its epoch loss falls, over all 4 epochs of the quick budget.
  const epochs = readMetrics(join(root, 's1', 'backbone-frozen', 'metrics.jsonl')).filter(
    (m): m is EpochRecord => m.type === 'epoch',
  );
  assert.equal(epochs.length, 4);
  assert.ok((epochs.at(-1)?.loss ?? 0) < (epochs[0]?.loss ?? 0) * 0.9, `losses ${epochs.map((e) => e.loss)}`);
  // The frozen backbone is the given weights, tensor for tensor.
  const given = loadSafetensors(weights).tensors;
  const trained = loadSafetensors(join(root, 's1', 'backbone-frozen', 'last.safetensors')).tensors;
  for (const [name, t] of Object.entries(given)) {
    const saved = trained[`model.backbone.${name}`];
    assert.ok(saved, `model.backbone.${name} in the checkpoint`);
    assert.deepEqual(saved.toArray(), t.toArray(), name);
  }
  for (const t of [...Object.values(given), ...Object.values(trained)]) t.dispose();

  // The frozen point again from the same weights reads the cache: same file, same result.
  const again = await frozenPoint('s2', weights);
  assert.ok(
    again.lines.some(
      (l) =>
        l ===
        `--freeze-backbone: 300 training images read from ${join(featureCacheDir(), files[0] as string)} (the frozen backbone's features, eval transform: no augmentation)`,
    ),
    again.lines.join('\n'),
  );
  assert.deepEqual(cacheFiles(), files);
  assert.deepEqual(again.eval?.float, frozen.float);

  // Other weights bytes (one tensor shifted): another key, embedded anew.
  const other = await frozenPoint('s3', otherWeights);
  assert.ok(other.lines.some((l) => /300 training images embedded once into/.test(l)));
  assert.equal(cacheFiles().length, 2);
});
