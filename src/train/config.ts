// Training configuration: defaults < --preset < --config FILE.json < command-line flags.
// The keys are the CLI flags in camelCase; `normsoftmax train --help` documents each.
import { existsSync, readFileSync } from 'node:fs';
import { checkFolds } from '../data/class-folds.js';
import { requireRoot } from '../data/formats/index.js';
import { DEFAULT_PIPELINE } from '../data/sources/types.js';
import { weightsEntry } from '../data/weights/index.js';
import { NMI_METHODS, type NmiMethod } from '../eval/nmi.js';
import { DEFAULT_RECALL_KS, recallKs } from '../eval/recall-ks.js';
import { ARCHS, type Arch } from '../nn/embedder.js';
import { PRECISION_CHOICES, type PrecisionChoice } from '../tensor/precision.js';
import { InputError, UsageError } from '../util/errors.js';

export type { Arch };

export type LossName = 'normsoftmax' | 'triplet' | 'proxynca';
export type OptimizerName = 'sgd' | 'adamw';
export const LOSSES: readonly LossName[] = ['normsoftmax', 'triplet', 'proxynca'];

export interface TrainConfig {
  dataset: string;
  root: string;
  arch: Arch;
  dim: number;
  /** The embedder's LayerNorm head (the paper's method; false only for the ablation). */
  layerNorm: boolean;
  pretrained: string | null;
  batchSize: number;
  imagesPerClass: number;
  /** 'balanced' (the paper's class-balanced sampler) or 'shuffle'. */
  sampler: 'balanced' | 'shuffle';
  lr: number;
  lrMult: number;
  gamma: number;
  epochsPerStep: number;
  numSteps: number;
  warmupEpochs: number;
  temperature: number;
  classFraction: number;
  loss: LossName;
  margin: number;
  optimizer: OptimizerName;
  momentum: number;
  weightDecay: number;
  seed: number;
  device: string;
  out: string;
  evalEvery: number;
  /** Recall@K list used by periodic evaluation (default: the data set's, src/eval/recall-ks.ts). */
  k: number[];
  /** Also compute NMI (k-means on the test embeddings) at each evaluation. */
  nmi: boolean;
  /** The k-means behind NMI: 'paper' (close to the paper's faiss script) or 'sklearn' (src/eval/nmi.ts). */
  nmiMethod: NmiMethod;
  /** Input pipeline: resize then crop (0 = none), for image-file data sets. */
  resize: number;
  crop: number;
  workers: number;
  skipBadImages: boolean;
  /** Stop after this many batches per epoch (0 = all): for smoke runs and tests. */
  maxBatchesPerEpoch: number;
  /** fp32, bf16 (the backbone's forward under autocast; the loss, its class weights and the optimiser in
   * float32) or auto (bf16 where the CPU has native bf16, or on CUDA). */
  precision: PrecisionChoice;
  /** In-memory (MNIST-like) training images: random translation by up to this many pixels (0 = none). */
  shift: number;
  threads: number;
  /** Class-disjoint folds of the training classes (0 = none; src/data/class-folds.ts). */
  folds: number;
  /** With folds: train without this fold's classes and evaluate on them instead of the test split. */
  fold: number;
}

export const DEFAULTS: TrainConfig = {
  dataset: 'cub',
  root: '',
  arch: 'resnet50',
  dim: 2048,
  layerNorm: true,
  pretrained: null,
  batchSize: 75,
  imagesPerClass: 25,
  sampler: 'balanced',
  lr: 0.01,
  lrMult: 1,
  gamma: 0.1,
  epochsPerStep: 15,
  numSteps: 2,
  warmupEpochs: 1,
  temperature: 0.05,
  classFraction: 1,
  loss: 'normsoftmax',
  margin: 0.2,
  optimizer: 'sgd',
  momentum: 0.9,
  weightDecay: 1e-4,
  seed: 0,
  device: 'cpu',
  out: 'runs/train',
  evalEvery: 5,
  k: [...DEFAULT_RECALL_KS],
  nmi: false,
  nmiMethod: 'paper',
  resize: DEFAULT_PIPELINE.resize,
  crop: DEFAULT_PIPELINE.crop,
  workers: DEFAULT_PIPELINE.workers,
  skipBadImages: DEFAULT_PIPELINE.skipBadImages,
  maxBatchesPerEpoch: 0,
  precision: 'fp32',
  shift: 0,
  threads: 0,
  folds: 0,
  fold: 0,
};

/** The official reproduction settings of spec section 3 (each data set's K list: spec section 4). */
export const PRESETS: Record<string, Partial<TrainConfig>> = {
  cub: { dataset: 'cub', lr: 0.001, imagesPerClass: 25, batchSize: 75, k: recallKs('cub') },
  cars196: { dataset: 'cars196', lr: 0.01, imagesPerClass: 25, batchSize: 75, k: recallKs('cars196') },
  sop: { dataset: 'sop', lr: 0.01, imagesPerClass: 5, batchSize: 75, k: recallKs('sop') },
  inshop: { dataset: 'inshop', lr: 0.01, imagesPerClass: 5, batchSize: 75, k: recallKs('inshop') },
};

const NUMBER_KEYS = [
  'dim',
  'batchSize',
  'imagesPerClass',
  'lr',
  'lrMult',
  'gamma',
  'epochsPerStep',
  'numSteps',
  'warmupEpochs',
  'temperature',
  'classFraction',
  'margin',
  'momentum',
  'weightDecay',
  'seed',
  'evalEvery',
  'resize',
  'crop',
  'workers',
  'maxBatchesPerEpoch',
  'threads',
  'folds',
  'fold',
  'shift',
] as const satisfies readonly (keyof TrainConfig)[];

const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function fail(key: string, expected: string, got: unknown): never {
  throw new UsageError(`${flag(key)}: expected ${expected}, got ${JSON.stringify(got)}`);
}

/** Parses a --config file; unknown keys are errors so that typos do not pass silently. */
export function readConfigFile(path: string): Partial<TrainConfig> {
  if (!existsSync(path)) throw new InputError(`--config ${path}: file not found`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`--config ${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InputError(`--config ${path}: expected a JSON object of training options`);
  }
  const known = new Set([...Object.keys(DEFAULTS), 'preset']);
  for (const key of Object.keys(doc)) {
    if (!known.has(key)) throw new InputError(`--config ${path}: unknown key "${key}"`);
  }
  return doc as Partial<TrainConfig>;
}

/** Merges the layers and validates every value; errors name the flag. */
export function resolveConfig(layers: {
  preset?: string;
  file?: Partial<TrainConfig> & { preset?: string };
  flags?: Partial<TrainConfig>;
}): TrainConfig {
  const presetName = layers.flags && 'preset' in layers.flags ? undefined : (layers.preset ?? layers.file?.preset);
  const name = layers.preset ?? presetName;
  if (name !== undefined && !(name in PRESETS)) {
    throw new UsageError(`--preset: expected one of ${Object.keys(PRESETS).join(', ')}, got "${name}"`);
  }
  const { preset: _ignored, ...file } = layers.file ?? {};
  const merged = { ...DEFAULTS, ...(name ? PRESETS[name] : {}), ...file, ...(layers.flags ?? {}) } as TrainConfig;
  if (!layers.flags?.k && !file.k && !name) merged.k = recallKs(merged.dataset);
  // A preset is the paper's recipe: ImageNet weights of its architecture unless --pretrained says otherwise
  // (`--pretrained none` trains from scratch).
  if (name && merged.pretrained === null && !('pretrained' in file) && !('pretrained' in (layers.flags ?? {}))) {
    merged.pretrained = paperWeights(merged.arch);
  }
  return validateConfig(merged);
}

/** The weights name the paper fine-tunes from for an architecture (resnet50: the original release). */
export function paperWeights(arch: string): string | null {
  return weightsEntry(arch)?.arch === arch ? arch : null;
}

export function validateConfig(c: TrainConfig): TrainConfig {
  if (c.pretrained === 'none' || c.pretrained === '') c.pretrained = null;
  if (c.pretrained !== null && typeof c.pretrained !== 'string')
    fail('pretrained', 'a file or a weights name', c.pretrained);
  for (const key of NUMBER_KEYS) {
    if (typeof c[key] !== 'number' || !Number.isFinite(c[key])) fail(key, 'a number', c[key]);
  }
  const positiveInts = [
    'dim',
    'batchSize',
    'imagesPerClass',
    'epochsPerStep',
    'numSteps',
    'evalEvery',
    'workers',
  ] as const;
  for (const key of positiveInts) if (!Number.isInteger(c[key]) || c[key] < 1) fail(key, 'a positive integer', c[key]);
  for (const key of [
    'warmupEpochs',
    'seed',
    'maxBatchesPerEpoch',
    'threads',
    'resize',
    'crop',
    'folds',
    'fold',
    'shift',
  ] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 0) fail(key, 'a non-negative integer', c[key]);
  }
  if (c.folds > 0) checkFolds(c.folds, c.fold);
  else if (c.fold > 0) throw new UsageError(`--fold ${c.fold} needs --folds N (the number of class-disjoint folds)`);
  if (!(c.lr > 0)) fail('lr', 'a positive number', c.lr);
  if (!(c.temperature > 0)) fail('temperature', 'a positive number', c.temperature);
  if (!(c.classFraction > 0 && c.classFraction <= 1)) fail('classFraction', 'a number in (0, 1]', c.classFraction);
  if (!(c.gamma > 0)) fail('gamma', 'a positive number', c.gamma);
  if (c.sampler === 'balanced' && c.batchSize % c.imagesPerClass !== 0) {
    throw new UsageError(
      `--batch-size ${c.batchSize} must be a multiple of --images-per-class ${c.imagesPerClass} for the class-balanced sampler`,
    );
  }
  if (typeof c.layerNorm !== 'boolean') fail('layerNorm', 'true or false', c.layerNorm);
  if (!ARCHS.includes(c.arch)) fail('arch', `one of ${ARCHS.join(', ')}`, c.arch);
  if (!LOSSES.includes(c.loss)) fail('loss', `one of ${LOSSES.join(', ')}`, c.loss);
  if (c.optimizer !== 'sgd' && c.optimizer !== 'adamw') fail('optimizer', 'sgd or adamw', c.optimizer);
  if (c.sampler !== 'balanced' && c.sampler !== 'shuffle') fail('sampler', 'balanced or shuffle', c.sampler);
  if (!PRECISION_CHOICES.includes(c.precision)) fail('precision', 'fp32, bf16 or auto', c.precision);
  if (!NMI_METHODS.includes(c.nmiMethod)) fail('nmiMethod', NMI_METHODS.join(' or '), c.nmiMethod);
  if (!/^(cpu|cuda(:\d+)?)$/.test(c.device)) fail('device', 'cpu, cuda or cuda:N', c.device);
  if (!Array.isArray(c.k) || c.k.length === 0 || c.k.some((k) => !Number.isInteger(k) || k < 1)) {
    fail('k', 'a list of positive integers such as 1,2,4,8', c.k);
  }
  requireRoot(c.dataset, c.root);
  return c;
}
