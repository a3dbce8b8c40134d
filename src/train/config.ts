// Training configuration: defaults < --preset < --config FILE.json < command-line flags. Every key, its
// type, default, bounds and help is in config-schema.ts; this file layers them and checks the result.
// The keys are the CLI flags in camelCase; `normsoftmax train --help` documents each.
import { existsSync, readFileSync } from 'node:fs';
import { checkFolds } from '../data/class-folds.js';
import { requireRoot } from '../data/formats/index.js';
import { weightsEntry } from '../data/weights/index.js';
import { recallKs } from '../eval/recall-ks.js';
import type { LossName } from '../loss/index.js';
import { type Arch, archInput, isArch } from '../nn/embedder.js';
import { isVitArch } from '../nn/vit-archs.js';
import { InputError, UsageError } from '../util/errors.js';
import { excerpt } from '../util/excerpt.js';
import {
  flagOf,
  isTrainKey,
  type PresetKey,
  problemOf,
  TRAIN_KEYS,
  type TrainConfig,
  trainDefaults,
} from './config-schema.js';

export type { Arch, LossName, TrainConfig };

export const DEFAULTS: TrainConfig = trainDefaults();

/** The official reproduction settings of spec section 3 (each data set's K list: spec section 4). */
export const PRESETS: Record<string, Partial<Pick<TrainConfig, PresetKey>>> = {
  cub: { dataset: 'cub', lr: 0.001, imagesPerClass: 25, batchSize: 75, k: recallKs('cub') },
  cars196: { dataset: 'cars196', lr: 0.01, imagesPerClass: 25, batchSize: 75, k: recallKs('cars196') },
  sop: { dataset: 'sop', lr: 0.01, imagesPerClass: 5, batchSize: 75, k: recallKs('sop') },
  inshop: { dataset: 'inshop', lr: 0.01, imagesPerClass: 5, batchSize: 75, k: recallKs('inshop') },
};

function fail(key: string, expected: string, got: unknown): never {
  throw new UsageError(`${flagOf(key)}: expected ${expected}, got ${JSON.stringify(got)}`);
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
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'preset') {
      if (typeof value !== 'string' || !(value in PRESETS)) {
        throw new InputError(
          `--config ${path}: key "preset": expected one of ${Object.keys(PRESETS).join(', ')}, got ${excerpt(value)}`,
        );
      }
      continue;
    }
    if (!isTrainKey(key)) throw new InputError(`--config ${path}: unknown key "${key}"`);
    const problem = problemOf(key, value);
    if (problem !== null)
      throw new InputError(`--config ${path}: key "${key}": expected ${problem}, got ${excerpt(value)}`);
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
  // A ViT is fed as its publisher evaluates it (CLIP: 224 / 224, ViT-L/16: 242 / 224) unless told otherwise.
  const given = (key: 'resize' | 'crop') => key in file || key in (layers.flags ?? {});
  const spec = isArch(merged.arch) ? archInput(merged.arch) : null;
  if (spec?.resize !== undefined) {
    if (!given('resize')) merged.resize = spec.resize;
    if (!given('crop')) merged.crop = spec.size;
  }
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

/**
 * Checks every key against the schema (errors name the flag), then what no single key says: the folds,
 * the class-balanced batch, the layer decay's architecture, the lr ramp's length and the data set's root. Normalises `pretrained: 'none'` to null.
 */
export function validateConfig(c: TrainConfig): TrainConfig {
  if (c.pretrained === 'none' || c.pretrained === '') c.pretrained = null;
  for (const key of TRAIN_KEYS) {
    const problem = problemOf(key, c[key]);
    if (problem !== null) fail(key, problem, c[key]);
  }
  if (c.folds > 0) checkFolds(c.folds, c.fold);
  else if (c.fold > 0) throw new UsageError(`--fold ${c.fold} needs --folds N (the number of class-disjoint folds)`);
  if (c.sampler === 'balanced' && c.batchSize % c.imagesPerClass !== 0) {
    throw new UsageError(
      `--batch-size ${c.batchSize} must be a multiple of --images-per-class ${c.imagesPerClass} for the class-balanced sampler`,
    );
  }
  if (c.layerDecay < 1 && !isVitArch(c.arch)) {
    throw new UsageError(`--layer-decay ${c.layerDecay}: applies to the ViT architectures, not ${c.arch}`);
  }
  const mainEpochs = c.epochsPerStep * c.numSteps;
  if (c.lrWarmupEpochs >= mainEpochs) {
    throw new UsageError(
      `--lr-warmup-epochs ${c.lrWarmupEpochs} must be fewer than the main phase's ${mainEpochs} epochs (--epochs-per-step x --num-steps)`,
    );
  }
  requireRoot(c.dataset, c.root);
  return c;
}
