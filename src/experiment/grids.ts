// The paper's studies as grids of settings, each applied on top of a base training config (budget.ts).
// A point's name is its run folder under the study's OUT directory, so it must stay stable across runs.
import type { LossName, TrainConfig } from '../train/config.js';

export const STUDY_NAMES = ['dims', 'temperature', 'layernorm', 'subsampling', 'losses', 'backbone'] as const;
export type StudyName = (typeof STUDY_NAMES)[number];

export function isStudyName(name: string): name is StudyName {
  return (STUDY_NAMES as readonly string[]).includes(name);
}

export type SettingValue = number | string | boolean;

export interface StudyPoint {
  /** Run folder name, e.g. dim-128. */
  name: string;
  /** What this point varies, as written in results.json (e.g. {dim: 128}). */
  setting: Record<string, SettingValue>;
  /** The training-config keys this point sets on top of the base. */
  overrides: Partial<TrainConfig>;
}

export interface StudyGrid {
  name: StudyName;
  /** One line for progress and the results table. */
  title: string;
  /** The setting key (also the x axis of the plot). */
  variable: string;
  /** Whether the variable is a number spanning decades (a log x axis) or a category. */
  axis: 'log' | 'category';
  points: StudyPoint[];
}

/** The paper's embedding sizes (ResNet-50 / BN-Inception backbones). */
export const PAPER_DIMS = [64, 128, 256, 512, 1024, 2048];
/** The small CNN has 128 features: sizes around it (256 and 512 are linear up-projections of rank 128). */
export const SMALL_CNN_DIMS = [16, 32, 64, 128, 256, 512];
export const TEMPERATURES = [0.01, 0.05, 0.1, 0.5, 1.0];
export const CLASS_FRACTIONS = [1, 0.5, 0.2, 0.1, 0.05, 0.01];
export const STUDY_LOSSES: LossName[] = ['normsoftmax', 'triplet', 'proxynca'];

/**
 * The class fractions whose softmax subset, ceil(f * classes) as NormSoftmaxLoss draws it, still holds every
 * class of a batch (batchSize / imagesPerClass classes); a smaller subset would only be the batch's classes.
 */
export function subsamplingFractions(numClasses: number, batchSize: number, imagesPerClass: number): number[] {
  const batchClasses = Math.ceil(batchSize / imagesPerClass);
  return CLASS_FRACTIONS.filter((f) => Math.ceil(f * numClasses) >= batchClasses);
}

/** The training key each study varies: a flag for it conflicts with the study. */
export const STUDY_VARIES: Record<StudyName, keyof TrainConfig> = {
  dims: 'dim',
  temperature: 'temperature',
  layernorm: 'layerNorm',
  subsampling: 'classFraction',
  losses: 'loss',
  backbone: 'freezeBackbone',
};

/** The loss a study is about, where it is about one loss's parameter. */
export const STUDY_LOSS: Partial<Record<StudyName, LossName>> = {
  temperature: 'normsoftmax',
  subsampling: 'normsoftmax',
};

export interface GridContext {
  /** The base configuration the grid is applied to. */
  base: TrainConfig;
  /** Classes in the training split. */
  numClasses: number;
}

export function studyGrid(name: StudyName, ctx: GridContext): StudyGrid {
  const { base } = ctx;
  switch (name) {
    case 'dims': {
      const dims = base.arch === 'smallcnn' ? SMALL_CNN_DIMS : PAPER_DIMS;
      return {
        name,
        title: 'embedding size',
        variable: 'dim',
        axis: 'log',
        points: dims.map((dim) => ({ name: `dim-${dim}`, setting: { dim }, overrides: { dim } })),
      };
    }
    case 'temperature':
      return {
        name,
        title: 'NormSoftmax temperature',
        variable: 'temperature',
        axis: 'log',
        points: TEMPERATURES.map((temperature) => ({
          name: `temperature-${temperature}`,
          setting: { temperature },
          overrides: { temperature },
        })),
      };
    case 'layernorm':
      return {
        name,
        title: 'LayerNorm head',
        variable: 'layerNorm',
        axis: 'category',
        points: [true, false].map((layerNorm) => ({
          name: layerNorm ? 'layernorm-on' : 'layernorm-off',
          setting: { layerNorm },
          overrides: { layerNorm },
        })),
      };
    case 'subsampling':
      return {
        name,
        title: 'class subsampling (fraction of classes in each softmax)',
        variable: 'classFraction',
        axis: 'log',
        points: subsamplingFractions(ctx.numClasses, base.batchSize, base.imagesPerClass).map((classFraction) => ({
          name: `fraction-${classFraction}`,
          setting: { classFraction },
          overrides: { classFraction },
        })),
      };
    case 'losses':
      return {
        name,
        title: 'loss (same budget)',
        variable: 'loss',
        axis: 'category',
        points: STUDY_LOSSES.map((loss) => ({ name: `loss-${loss}`, setting: { loss }, overrides: { loss } })),
      };
    // The backbone fine-tuned with the head, or frozen: the head alone trains on its cached features of the
    // training split (train --freeze-backbone), at the same budget.
    case 'backbone':
      return {
        name,
        title: 'backbone fine-tuned or frozen (head-only training on cached features)',
        variable: 'freezeBackbone',
        axis: 'category',
        points: [false, true].map((freezeBackbone) => ({
          name: freezeBackbone ? 'backbone-frozen' : 'backbone-trained',
          setting: { freezeBackbone },
          overrides: { freezeBackbone },
        })),
      };
  }
}
