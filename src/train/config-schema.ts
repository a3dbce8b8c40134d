// The one table of training options. Each key of TrainConfig is listed here once, with its type, default,
// bounds, help text and whether a preset sets it; from it come the TrainConfig type, the defaults, the
// checks of a value (config.ts, for every layer), the parsing of flag values and the commander options of
// `train`, `experiment` and `demo` (src/cli/train-options.ts). A key's flag is the key in kebab case
// (batchSize: --batch-size); a boolean whose default is true is turned off by --no-KEY.
// `--resume` compares every key of a checkpoint's config with the run's (src/train/resume-check.ts): a key
// must keep its value unless its entry says, in `onResume`, why another value is harmless.
// A new option: one entry here (and, if a loss reads it, a key of LossSettings in src/loss/types.ts).
import { DATASET_NAMES } from '../data/formats/index.js';
import { DEFAULT_PIPELINE } from '../data/sources/types.js';
import { NMI_METHODS } from '../eval/nmi.js';
import { DEFAULT_RECALL_KS } from '../eval/recall-ks.js';
import { LOSS_NAMES } from '../loss/index.js';
import { ARCHS } from '../nn/embedder.js';
import { PRECISION_CHOICES } from '../tensor/precision.js';

interface Common {
  /** Help text; `{default}` stands for the default value. */
  help: string;
  /** The value's placeholder in help (`--lr <x>`); booleans have none. */
  arg?: string;
  /** A --preset sets it (PRESETS may hold only such keys). */
  preset?: true;
  /**
   * Why a resumed run may take another value than its checkpoint's (said when it does), or a function of
   * the checkpoint's and this run's configs that says why, or null where the change is not harmless.
   * Absent: `--resume` refuses another value (the safe default for a new key).
   */
  onResume?: string | ResumeRule;
}

/** Decides a changed key on --resume from both configs: why it is harmless, or null to refuse it. */
export type ResumeRule = (
  saved: Readonly<Record<string, unknown>>,
  now: Readonly<Record<string, unknown>>,
) => string | null;

/** More steps (or fewer) of the step schedule: an epoch's lr does not depend on their number, under the cosine it does. */
const stepsOnResume: ResumeRule = (saved, now) =>
  saved['schedule'] === 'step' && now['schedule'] === 'step'
    ? "the step schedule's lr of an epoch does not depend on it: the run ends at another epoch"
    : null;

/** The checkpoint's weights replace the --pretrained ones; but head-only training's feature cache is keyed by them. */
const pretrainedOnResume: ResumeRule = (_saved, now) =>
  now['freezeBackbone'] === true ? null : "the checkpoint's weights replace them (they only start a run)";

const WHERE = 'where the run reads or writes, not what it trains';
const SPEED = 'how fast it runs, not what it trains';
const EVALUATION = 'what is evaluated, not what is trained';
const ROUNDING = 'where or how the forward is computed (other rounding), not the recipe';

export interface NumberField extends Common {
  type: 'number';
  default: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Inclusive upper bound. */
  atMost?: number;
}

export interface IntegerField extends Common {
  type: 'integer';
  default: number;
  /** 1: a positive integer, 0: a non-negative one. */
  min: 0 | 1;
}

export interface ChoiceField<C extends string = string> extends Common {
  type: 'choice';
  default: C;
  choices: readonly C[];
  /** How an error names the choices: "one of a, b, c" (default) or "a, b or c". */
  phrase?: 'one-of' | 'or';
}

export interface TextField extends Common {
  type: 'text';
  default: string;
  /** A value must match it; `expected` says what it allows. */
  pattern?: RegExp;
  expected?: string;
}

/** A file or a name, or null for none ('none' and '' mean null too). */
export interface OptionalTextField extends Common {
  type: 'optional-text';
  default: null;
  expected: string;
}

export interface BooleanField extends Common {
  type: 'boolean';
  default: boolean;
}

/** A non-empty list of positive integers (Recall@K). */
export interface IntegerListField extends Common {
  type: 'integer-list';
  default: readonly number[];
}

export type Field =
  | NumberField
  | IntegerField
  | ChoiceField
  | TextField
  | OptionalTextField
  | BooleanField
  | IntegerListField;

// Each helper keeps its entry's literal type (a `preset: true` stays visible to PresetKey).
const number = <O extends Omit<NumberField, 'type'>>(o: O) => ({ type: 'number', arg: 'x', ...o }) as NumberField & O;
const integer = <O extends Omit<IntegerField, 'type'>>(o: O) =>
  ({ type: 'integer', arg: 'n', ...o }) as IntegerField & O;
const choice = <C extends string, O extends Omit<ChoiceField<C>, 'type' | 'choices'>>(choices: readonly C[], o: O) =>
  ({ type: 'choice', choices, arg: 'name', ...o }) as ChoiceField<C> & O;
const text = <O extends Omit<TextField, 'type'>>(o: O) => ({ type: 'text', ...o }) as TextField & O;
const boolean = <O extends Omit<BooleanField, 'type'>>(o: O) => ({ type: 'boolean', ...o }) as BooleanField & O;

export const TRAIN_SCHEMA = {
  dataset: text({ default: 'cub', arg: 'name', help: DATASET_NAMES.join(', '), preset: true }),
  root: text({ onResume: WHERE, default: '', arg: 'dir', help: 'data set directory' }),
  arch: choice(ARCHS, { default: 'resnet50', help: `${ARCHS.join(', ')} (default {default})` }),
  dim: integer({ default: 2048, min: 1, help: 'embedding size (default {default})' }),
  /** The embedder's LayerNorm head (the paper's method; false only for the ablation). */
  layerNorm: boolean({ default: true, help: "drop the LayerNorm head (the paper's ablation; default: with it)" }),
  pretrained: {
    onResume: pretrainedOnResume,
    type: 'optional-text',
    default: null,
    arg: 'file|name',
    expected: 'a file or a weights name',
    preset: true,
    help: "backbone weights: a .pth / .safetensors file or a name from `weights list` (downloaded if needed); none = from scratch (presets default to the paper's ImageNet weights)",
  } satisfies OptionalTextField,
  batchSize: integer({ default: 75, min: 1, preset: true, help: 'images per batch (default {default})' }),
  imagesPerClass: integer({
    default: 25,
    min: 1,
    preset: true,
    help: 'images per class in a batch (default {default})',
  }),
  /** 'balanced' (the paper's class-balanced sampler) or 'shuffle'. */
  sampler: choice(['balanced', 'shuffle'] as const, {
    default: 'balanced',
    arg: 'kind',
    phrase: 'or',
    help: 'balanced (default) or shuffle',
  }),
  lr: number({ default: 0.01, above: 0, preset: true, help: 'learning rate (default {default})' }),
  lrMult: number({ default: 1, help: 'lr multiplier of the new parameters (default {default})' }),
  gamma: number({ default: 0.1, above: 0, help: 'lr decay per step (default {default})' }),
  epochsPerStep: integer({ default: 15, min: 1, help: 'epochs between lr decays (default {default})' }),
  numSteps: integer({
    onResume: stepsOnResume,
    default: 2,
    min: 1,
    help: 'lr steps; epochs = epochs-per-step * num-steps (default {default})',
  }),
  warmupEpochs: integer({
    default: 1,
    min: 0,
    help: 'epochs training only the new parameters first (default {default})',
  }),
  /** The main phase's schedule: the paper's steps (gamma every epochsPerStep) or a cosine to 0 over it. */
  schedule: choice(['step', 'cosine'] as const, {
    default: 'step',
    arg: 'kind',
    phrase: 'or',
    help: 'step (default: lr * gamma every epochs-per-step) or cosine (to 0 over the main phase)',
  }),
  /** A linear ramp of the lr over the first epochs of the main phase: lr * (e + 1) / (n + 1). */
  lrWarmupEpochs: integer({
    default: 0,
    min: 0,
    help: 'main phase: ramp the lr linearly over its first n epochs (lr * (e + 1) / (n + 1); default {default})',
  }),
  /** A ViT's layer-wise lr decay: block i of L gets lr * d^(L - i), the embeddings d^(L + 1), the head 1. */
  layerDecay: number({
    default: 1,
    above: 0,
    atMost: 1,
    arg: 'd',
    help: 'ViTs: layer-wise lr decay, block i of L at lr * d^(L - i), patch/position embeddings d^(L + 1) (default {default}: none)',
  }),
  /** Head-only training on the frozen backbone's cached features of the training split (src/train/feature-cache.ts). */
  freezeBackbone: boolean({
    default: false,
    help: "train only the head (LayerNorm, projection, the loss's weights) on the frozen backbone's features of the training split, embedded once with the eval transform (no augmentation) and cached in $NORMSOFTMAX_HOME/features",
  }),
  temperature: number({ default: 0.05, above: 0, help: 'NormSoftmax temperature (default {default})' }),
  classFraction: number({
    default: 1,
    above: 0,
    atMost: 1,
    arg: 'f',
    help: 'fraction of classes in each softmax, (0, 1] (default {default})',
  }),
  /** The losses of src/loss/index.ts, by name. */
  loss: choice(LOSS_NAMES, { default: 'normsoftmax', help: `${LOSS_NAMES.join(', ')} (default {default})` }),
  margin: number({ default: 0.2, help: 'triplet margin (default {default})' }),
  optimizer: choice(['sgd', 'adamw'] as const, { default: 'sgd', phrase: 'or', help: 'sgd (default) or adamw' }),
  momentum: number({ default: 0.9, help: 'SGD momentum (default {default})' }),
  weightDecay: number({
    default: 1e-4,
    help: 'weight decay (default {default}; adamw: on weights only, not on norms, biases, position embeddings or class/register tokens)',
  }),
  seed: integer({ default: 0, min: 0, help: 'random seed (default {default})' }),
  device: text({
    onResume: ROUNDING,
    default: 'cpu',
    arg: 'd',
    pattern: /^(cpu|cuda(:\d+)?)$/,
    expected: 'cpu, cuda or cuda:N',
    help: 'cpu (default), cuda or cuda:N',
  }),
  out: text({ onResume: WHERE, default: 'runs/train', arg: 'dir', help: 'output directory (default {default})' }),
  evalEvery: integer({ onResume: EVALUATION, default: 5, min: 1, help: 'evaluate every n epochs (default {default})' }),
  /** Recall@K list used by periodic evaluation (default: the data set's, src/eval/recall-ks.ts). */
  k: {
    onResume: EVALUATION,
    type: 'integer-list',
    default: DEFAULT_RECALL_KS,
    arg: 'list',
    preset: true,
    help: "Recall@K list (default: the data set's)",
  } satisfies IntegerListField,
  /** Also compute NMI (k-means on the test embeddings) at each evaluation. */
  nmi: boolean({ onResume: EVALUATION, default: false, help: 'also compute NMI (k-means) at each evaluation' }),
  /** The k-means behind NMI: 'paper' (close to the paper's faiss script) or 'sklearn' (src/eval/nmi.ts). */
  nmiMethod: choice(NMI_METHODS, {
    onResume: EVALUATION,
    default: 'paper',
    phrase: 'or',
    help: "k-means behind NMI: paper (default, close to the paper's script) or sklearn",
  }),
  /** Input pipeline: resize then crop (0 = none), for image-file data sets. */
  resize: integer({
    default: DEFAULT_PIPELINE.resize,
    min: 0,
    help: 'resize images to n x n before cropping (default {default})',
  }),
  crop: integer({ default: DEFAULT_PIPELINE.crop, min: 0, help: 'crop size (default {default})' }),
  workers: integer({
    onResume: SPEED,
    default: DEFAULT_PIPELINE.workers,
    min: 1,
    help: 'images decoded in parallel (default {default})',
  }),
  skipBadImages: boolean({
    onResume: 'what happens to an unreadable image (it is skipped or stops the run), not the recipe',
    default: DEFAULT_PIPELINE.skipBadImages,
    help: 'warn about and skip unreadable images instead of stopping',
  }),
  /** Stop after this many batches per epoch (0 = all): for smoke runs and tests. */
  maxBatchesPerEpoch: integer({ default: 0, min: 0, help: 'cap batches per epoch (smoke runs)' }),
  /** fp32, bf16 (the backbone's forward under autocast; the loss, its class weights and the optimiser in
   * float32) or auto (bf16 where the CPU has native bf16, or on CUDA). */
  precision: choice(PRECISION_CHOICES, {
    onResume: ROUNDING,
    default: 'fp32',
    arg: 'p',
    phrase: 'or',
    help: 'fp32 (default), bf16 (forward under autocast; loss, class weights and optimiser in fp32; fp32 on a CPU without AVX-512 BF16 or AMX, saying why), or auto (bf16 where the CPU has AVX-512 BF16 or AMX, or on CUDA)',
  }),
  /** In-memory (MNIST-like) training images: random translation by up to this many pixels (0 = none). */
  shift: integer({
    default: 0,
    min: 0,
    arg: 'px',
    help: 'in-memory data sets: random translation of training images by up to px pixels (default {default})',
  }),
  threads: integer({ onResume: SPEED, default: 0, min: 0, help: 'CPU threads (default: all cores)' }),
  /** Class-disjoint folds of the training classes (0 = none; src/data/class-folds.ts). */
  folds: integer({
    default: 0,
    min: 0,
    help: 'split the training classes into n class-disjoint folds (Reality Check; default: none)',
  }),
  /** With folds: train without this fold's classes and evaluate on them instead of the test split. */
  fold: integer({
    default: 0,
    min: 0,
    arg: 'i',
    help: "with --folds: train without fold i's classes (0-based) and validate on them",
  }),
} satisfies Record<string, Field>;

type Schema = typeof TRAIN_SCHEMA;
export type TrainKey = keyof Schema;

type ValueOf<F> = F extends NumberField | IntegerField
  ? number
  : F extends ChoiceField<infer C>
    ? C
    : F extends TextField
      ? string
      : F extends OptionalTextField
        ? string | null
        : F extends BooleanField
          ? boolean
          : F extends IntegerListField
            ? number[]
            : never;

/** The training configuration: one value of each key of TRAIN_SCHEMA. */
export type TrainConfig = { [K in TrainKey]: ValueOf<Schema[K]> };

/** The keys a preset may set. */
export type PresetKey = { [K in TrainKey]: Schema[K] extends { preset: true } ? K : never }[TrainKey];

export const TRAIN_KEYS = Object.keys(TRAIN_SCHEMA) as TrainKey[];

export function fieldOf(key: TrainKey): Field {
  return TRAIN_SCHEMA[key];
}

export function isTrainKey(key: string): key is TrainKey {
  return Object.hasOwn(TRAIN_SCHEMA, key);
}

/** A fresh copy of the defaults. */
export function trainDefaults(): TrainConfig {
  const out: Record<string, unknown> = {};
  for (const key of TRAIN_KEYS) {
    const d = fieldOf(key).default;
    out[key] = Array.isArray(d) ? [...d] : d;
  }
  return out as TrainConfig;
}

/** The flag that names a key in errors: the key in kebab case (layerNorm: --layer-norm). */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The flag a user types for a key: a boolean that defaults to true is turned off (--no-layer-norm). */
export function commandLineFlag(key: TrainKey): string {
  const f = fieldOf(key);
  return f.type === 'boolean' && f.default ? `--no-${flagOf(key).slice(2)}` : flagOf(key);
}

/** The help text of a key, its default filled in. */
export function helpOf(key: TrainKey): string {
  const f = fieldOf(key);
  return f.help.replace('{default}', String(f.default));
}

/** "a, b or c" */
export function orList(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/**
 * What a key's value must be when `value` is not that (the phrase after "expected"), or null when it fits.
 * Numbers are first checked to be finite numbers ("a number"), then against their bounds.
 */
export function problemOf(key: TrainKey, value: unknown): string | null {
  const f = fieldOf(key);
  switch (f.type) {
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'a number';
      if (f.type === 'integer') {
        const fits = Number.isInteger(value) && value >= f.min;
        return fits ? null : f.min === 1 ? 'a positive integer' : 'a non-negative integer';
      }
      const low = f.above === undefined || value > f.above;
      const high = f.atMost === undefined || value <= f.atMost;
      if (low && high) return null;
      if (f.atMost !== undefined) return `a number in (${f.above ?? '-inf'}, ${f.atMost}]`;
      return f.above === 0 ? 'a positive number' : `a number above ${f.above}`;
    }
    case 'choice':
      if (typeof value === 'string' && f.choices.includes(value)) return null;
      return f.phrase === 'or' ? orList(f.choices) : `one of ${f.choices.join(', ')}`;
    case 'text':
      if (typeof value === 'string' && (f.pattern === undefined || f.pattern.test(value))) return null;
      return f.expected ?? 'a string';
    case 'optional-text':
      return value === null || typeof value === 'string' ? null : f.expected;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'true or false';
    case 'integer-list':
      return Array.isArray(value) && value.length > 0 && value.every((k) => Number.isInteger(k) && k >= 1)
        ? null
        : 'a list of positive integers such as 1,2,4,8';
  }
}
