// The base training config of a study: the data set's paper recipe (PRESETS in src/train/config.ts; for
// MNIST and Fashion-MNIST, which have no preset, the demo's recipe) at one of three budgets:
//   paper      the recipe as it is
//   miniature  MNIST-like data sets only: 2 epochs of 100 batches at lr 0.05 (sized so all five studies on
//              both data sets fit in about an hour on 2 cores)
//   quick      a smoke-sized run: minutes per study on a laptop CPU
// Training flags given by the user override the budget; evaluation runs once, at the end, unless
// --eval-every says otherwise.
import { PRESETS, resolveConfig, type TrainConfig } from '../train/config.js';
import { UsageError } from '../util/errors.js';

export const BUDGETS = ['paper', 'miniature', 'quick'] as const;
export type Budget = (typeof BUDGETS)[number];

/** Data sets whose recipe is the demo's (a small CNN, zero-shot split classes 0-4 / 5-9). */
export const MNIST_LIKE = ['fashion-mnist', 'mnist'] as const;

export function studyDatasets(): string[] {
  return [...Object.keys(PRESETS), ...MNIST_LIKE];
}

const isMnistLike = (dataset: string) => (MNIST_LIKE as readonly string[]).includes(dataset);

/** What each budget changes in an MNIST-like recipe. */
export const MNIST_BUDGETS: Record<Exclude<Budget, 'paper'>, Partial<TrainConfig>> = {
  // lr 0.05: the demo's earlier rate, pinned so that the miniature studies in docs/experiments/ stay
  // reproducible whatever the demo's own recipe becomes.
  miniature: { numSteps: 2, epochsPerStep: 1, warmupEpochs: 0, maxBatchesPerEpoch: 100, lr: 0.05 },
  quick: { numSteps: 1, epochsPerStep: 1, warmupEpochs: 0, maxBatchesPerEpoch: 30, nmi: false },
};

/** What --quick changes in a preset: ResNet-18 at 128 px, one short epoch. */
export const PRESET_QUICK: Partial<TrainConfig> = {
  arch: 'resnet18',
  dim: 512,
  resize: 146,
  crop: 128,
  numSteps: 1,
  epochsPerStep: 1,
  warmupEpochs: 0,
  maxBatchesPerEpoch: 20,
};

export interface BaseRequest {
  dataset: string;
  budget: Budget;
  /** The demo's recipe (src/cli/commands/demo.ts), the base of MNIST-like data sets. */
  mnistRecipe: Partial<TrainConfig>;
  /** Training flags from the command line (override the budget). */
  flags?: Partial<TrainConfig>;
}

export function studyBaseConfig(r: BaseRequest): TrainConfig {
  const flags = r.flags ?? {};
  let config: TrainConfig;
  if (isMnistLike(r.dataset)) {
    const budget = r.budget === 'paper' ? {} : MNIST_BUDGETS[r.budget];
    config = resolveConfig({ flags: { ...r.mnistRecipe, ...budget, ...flags, dataset: r.dataset } });
  } else if (r.dataset in PRESETS) {
    if (r.budget === 'miniature') {
      throw new UsageError(`--budget miniature: only for ${MNIST_LIKE.join(' and ')}; use paper or quick`);
    }
    const budget = r.budget === 'quick' ? PRESET_QUICK : {};
    config = resolveConfig({ preset: r.dataset, flags: { ...budget, ...flags, dataset: r.dataset } });
  } else {
    throw new UsageError(`--dataset: expected one of ${studyDatasets().join(', ')}, got "${r.dataset}"`);
  }
  if (flags.evalEvery === undefined) config.evalEvery = config.epochsPerStep * config.numSteps;
  return config;
}
