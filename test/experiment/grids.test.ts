// The studies' grids (hand-checked lists) and their base configurations per budget.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MNIST_BUDGETS, studyBaseConfig } from '../../src/experiment/budget.js';
import { type STUDY_NAMES, studyGrid, subsamplingFractions } from '../../src/experiment/grids.js';
import { DEFAULTS, type TrainConfig } from '../../src/train/config.js';
import { UsageError } from '../../src/util/errors.js';

const RECIPE: Partial<TrainConfig> = {
  arch: 'smallcnn',
  dim: 128,
  batchSize: 100,
  imagesPerClass: 20,
  lr: 0.05,
  warmupEpochs: 0,
  epochsPerStep: 1,
  numSteps: 2,
  maxBatchesPerEpoch: 150,
  evalEvery: 1,
  nmi: true,
};
const base = (over: Partial<TrainConfig> = {}): TrainConfig => ({ ...DEFAULTS, ...over });
const names = (study: (typeof STUDY_NAMES)[number], b: TrainConfig, numClasses = 100) =>
  studyGrid(study, { base: b, numClasses }).points.map((p) => p.name);

describe('grids', () => {
  test('dims: the paper sizes on ResNets, sizes around the small CNN width (128) on it', () => {
    assert.deepEqual(
      studyGrid('dims', { base: base(), numClasses: 100 }).points.map((p) => p.setting.dim),
      [64, 128, 256, 512, 1024, 2048],
    );
    assert.deepEqual(names('dims', base({ arch: 'smallcnn' })), [
      'dim-16',
      'dim-32',
      'dim-64',
      'dim-128',
      'dim-256',
      'dim-512',
    ]);
    const p = studyGrid('dims', { base: base(), numClasses: 100 }).points[2];
    assert.deepEqual(p?.overrides, { dim: 256 });
  });

  test('temperature, layernorm and losses', () => {
    const t = studyGrid('temperature', { base: base(), numClasses: 100 });
    assert.deepEqual(
      t.points.map((p) => p.overrides.temperature),
      [0.01, 0.05, 0.1, 0.5, 1],
    );
    assert.equal(t.axis, 'log');
    assert.deepEqual(names('temperature', base()), [
      'temperature-0.01',
      'temperature-0.05',
      'temperature-0.1',
      'temperature-0.5',
      'temperature-1',
    ]);
    const ln = studyGrid('layernorm', { base: base(), numClasses: 100 });
    assert.deepEqual(
      ln.points.map((p) => [p.name, p.overrides.layerNorm]),
      [
        ['layernorm-on', true],
        ['layernorm-off', false],
      ],
    );
    assert.equal(ln.axis, 'category');
    assert.deepEqual(
      studyGrid('losses', { base: base(), numClasses: 100 }).points.map((p) => p.setting),
      [{ loss: 'normsoftmax' }, { loss: 'triplet' }, { loss: 'proxynca' }],
    );
    const bb = studyGrid('backbone', { base: base(), numClasses: 100 });
    assert.deepEqual(
      bb.points.map((p) => [p.name, p.overrides.freezeBackbone]),
      [
        ['backbone-trained', false],
        ['backbone-frozen', true],
      ],
    );
    assert.equal(bb.variable, 'freezeBackbone');
    assert.equal(bb.axis, 'category');
  });

  test('subsampling keeps the fractions whose subset ceil(f * C) still holds the batch classes', () => {
    // CUB: 100 classes, 75 / 25 = 3 per batch: 0.01 leaves 1 class.
    assert.deepEqual(subsamplingFractions(100, 75, 25), [1, 0.5, 0.2, 0.1, 0.05]);
    // Cars196: 98 classes: 0.05 -> ceil(4.9) = 5 >= 3, 0.01 -> 1.
    assert.deepEqual(subsamplingFractions(98, 75, 25), [1, 0.5, 0.2, 0.1, 0.05]);
    // SOP: 11,318 classes, 75 / 5 = 15 per batch: 0.01 -> 114.
    assert.deepEqual(subsamplingFractions(11318, 75, 5), [1, 0.5, 0.2, 0.1, 0.05, 0.01]);
    // The MNIST demo split: 5 classes, all 5 in every batch of 100 / 20: no subsampling is possible.
    assert.deepEqual(subsamplingFractions(5, 100, 20), [1]);
    // 10 classes, 4 per batch: 0.5 -> 5, 0.2 -> 2.
    assert.deepEqual(subsamplingFractions(10, 100, 25), [1, 0.5]);
    assert.deepEqual(names('subsampling', base({ batchSize: 75, imagesPerClass: 25 }), 100), [
      'fraction-1',
      'fraction-0.5',
      'fraction-0.2',
      'fraction-0.1',
      'fraction-0.05',
    ]);
  });
});

describe('base configuration per budget', () => {
  test("MNIST-like data sets start from the demo's recipe; the budget and then the flags override it", () => {
    const paper = studyBaseConfig({ dataset: 'mnist', budget: 'paper', mnistRecipe: RECIPE });
    assert.equal(paper.dataset, 'mnist');
    assert.equal(paper.arch, 'smallcnn');
    assert.equal(paper.maxBatchesPerEpoch, 150);
    assert.equal(paper.numSteps, 2);
    assert.equal(paper.evalEvery, 2, 'one evaluation, at the end');
    assert.equal(paper.pretrained, null);
    const quick = studyBaseConfig({ dataset: 'fashion-mnist', budget: 'quick', mnistRecipe: RECIPE });
    assert.deepEqual(
      [quick.numSteps, quick.epochsPerStep, quick.maxBatchesPerEpoch, quick.nmi, quick.lr, quick.batchSize],
      [1, 1, 30, false, 0.05, 100],
    );
    const mini = studyBaseConfig({
      dataset: 'fashion-mnist',
      budget: 'miniature',
      mnistRecipe: RECIPE,
      flags: { maxBatchesPerEpoch: 40, evalEvery: 1 },
    });
    assert.equal(mini.numSteps, MNIST_BUDGETS.miniature.numSteps);
    assert.equal(mini.maxBatchesPerEpoch, 40);
    assert.equal(mini.evalEvery, 1);
    assert.equal(mini.nmi, true);
  });

  test('presets are the paper scale; --quick shrinks them to a short ResNet-18 run', () => {
    const paper = studyBaseConfig({ dataset: 'cub', budget: 'paper', mnistRecipe: RECIPE, flags: { root: '/data' } });
    assert.deepEqual(
      [paper.arch, paper.dim, paper.lr, paper.batchSize, paper.imagesPerClass, paper.pretrained, paper.evalEvery],
      ['resnet50', 2048, 0.001, 75, 25, 'resnet50', 30],
    );
    const quick = studyBaseConfig({ dataset: 'sop', budget: 'quick', mnistRecipe: RECIPE, flags: { root: '/d' } });
    assert.deepEqual(
      [quick.arch, quick.crop, quick.numSteps, quick.maxBatchesPerEpoch, quick.imagesPerClass, quick.pretrained],
      ['resnet18', 128, 1, 20, 5, 'resnet18'],
    );
  });

  test('bad requests are one-line usage errors naming the flag', () => {
    assert.throws(
      () => studyBaseConfig({ dataset: 'cub', budget: 'miniature', mnistRecipe: RECIPE, flags: { root: '/d' } }),
      (e: unknown) =>
        e instanceof UsageError && /^--budget miniature: only for fashion-mnist and mnist/.test(e.message),
    );
    assert.throws(
      () => studyBaseConfig({ dataset: 'folder', budget: 'paper', mnistRecipe: RECIPE }),
      (e: unknown) =>
        e instanceof UsageError && /^--dataset: expected one of cub, .*mnist, got "folder"$/.test(e.message),
    );
    assert.throws(
      () => studyBaseConfig({ dataset: 'cub', budget: 'paper', mnistRecipe: RECIPE }),
      (e: unknown) => e instanceof UsageError && /--root is required/.test(e.message),
    );
  });
});
