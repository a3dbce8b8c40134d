// The training configuration of the small tests that train on syntheticDataset(): the small CNN, 16-d,
// batches of 8 (4 per class), lr 0.05, one epoch per step, no evaluation before the end; each test
// overrides what it is about.
import { resolveConfig, type TrainConfig } from '../../src/train/config.js';

const TINY: Partial<TrainConfig> = {
  dataset: 'fashion-mnist',
  arch: 'smallcnn',
  dim: 16,
  batchSize: 8,
  imagesPerClass: 4,
  lr: 0.05,
  epochsPerStep: 1,
  evalEvery: 100,
};

export function tinyTrainConfig(flags: Partial<TrainConfig> & { out: string }): TrainConfig {
  return resolveConfig({ flags: { ...TINY, ...flags } });
}
