// The one schema of training options (src/train/config-schema.ts) and what is generated from it: the
// defaults, the checks of a value (flags name the flag, a --config file names the file and the key), the
// commander options of train, experiment and demo, and the parsing of flag values.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Command } from 'commander';
import { register as registerDemo } from '../../src/cli/commands/demo.js';
import { register as registerExperiment } from '../../src/cli/commands/experiment.js';
import { register as registerTrain, trainConfigFromFlags } from '../../src/cli/commands/train.js';
import { flagsToConfig, parseTrainFlag } from '../../src/cli/train-options.js';
import { LOSS_NAMES } from '../../src/loss/index.js';
import { VIT_ARCHS } from '../../src/nn/index.js';
import { DEFAULTS, PRESETS, readConfigFile, resolveConfig } from '../../src/train/config.js';
import {
  commandLineFlag,
  fieldOf,
  flagOf,
  helpOf,
  problemOf,
  TRAIN_KEYS,
  type TRAIN_SCHEMA,
  trainDefaults,
} from '../../src/train/config-schema.js';
import { InputError, UsageError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-config-schema-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function commandOf(register: (p: Command) => void, name: string): Command {
  const program = new Command();
  register(program);
  return program.commands.find((c) => c.name() === name) as Command;
}

const longFlags = (cmd: Command) => cmd.options.map((o) => o.long as string);

test('the defaults are the recipe of spec section 3 with the library defaults around it', () => {
  assert.deepEqual(DEFAULTS, {
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
    schedule: 'step',
    lrWarmupEpochs: 0,
    layerDecay: 1,
    freezeBackbone: false,
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
    k: [1, 2, 4, 8],
    nmi: false,
    nmiMethod: 'paper',
    resize: 256,
    crop: 224,
    workers: 4,
    skipBadImages: false,
    maxBatchesPerEpoch: 0,
    precision: 'fp32',
    shift: 0,
    threads: 0,
    folds: 0,
    fold: 0,
  });
  // The key order is the order of config.json in a run folder.
  assert.deepEqual(Object.keys(DEFAULTS), TRAIN_KEYS);
  const a = trainDefaults();
  a.k.push(16);
  assert.deepEqual(trainDefaults().k, [1, 2, 4, 8], 'each copy has its own K list');
});

test('a preset sets only keys the schema marks as set by a preset', () => {
  const marked = TRAIN_KEYS.filter((k) => (fieldOf(k) as { preset?: true }).preset === true).sort();
  assert.deepEqual(marked, ['batchSize', 'dataset', 'imagesPerClass', 'k', 'lr', 'pretrained']);
  for (const [name, preset] of Object.entries(PRESETS)) {
    for (const key of Object.keys(preset)) assert.ok((marked as string[]).includes(key), `${name} sets ${key}`);
  }
});

test('flag names: the key in kebab case; a switch that defaults to true is --no-KEY', () => {
  assert.equal(flagOf('imagesPerClass'), '--images-per-class');
  assert.equal(flagOf('k'), '--k');
  assert.equal(commandLineFlag('layerNorm'), '--no-layer-norm');
  assert.equal(commandLineFlag('nmi'), '--nmi');
  assert.equal(helpOf('dim'), 'embedding size (default 2048)');
  assert.equal(
    helpOf('weightDecay'),
    'weight decay (default 0.0001; adamw: on weights only, not on norms, biases, position embeddings or class/register tokens)',
  );
  assert.equal(flagOf('layerDecay'), '--layer-decay');
  assert.equal(helpOf('loss'), `${LOSS_NAMES.join(', ')} (default normsoftmax)`);
});

describe('what a value must be', () => {
  const cases: [keyof typeof TRAIN_SCHEMA, unknown, string | null][] = [
    ['lr', 0.5, null],
    ['lr', 'fast', 'a number'],
    ['lr', Number.NaN, 'a number'],
    ['lr', 0, 'a positive number'],
    ['lrMult', -2, null],
    ['classFraction', 1, null],
    ['classFraction', 1.01, 'a number in (0, 1]'],
    ['classFraction', 0, 'a number in (0, 1]'],
    ['dim', 1, null],
    ['dim', 0, 'a positive integer'],
    ['dim', 2.5, 'a positive integer'],
    ['seed', 0, null],
    ['seed', -1, 'a non-negative integer'],
    ['arch', 'resnet18', null],
    ['arch', 'vgg', `one of resnet18, resnet34, resnet50, resnet101, bninception, smallcnn, ${VIT_ARCHS.join(', ')}`],
    ['loss', 'arcface', `one of ${LOSS_NAMES.join(', ')}`],
    ['optimizer', 'adam', 'sgd or adamw'],
    ['precision', 'fp16', 'fp32, bf16 or auto'],
    ['device', 'cuda:1', null],
    ['device', 'gpu', 'cpu, cuda or cuda:N'],
    ['root', 5, 'a string'],
    ['pretrained', null, null],
    ['pretrained', 3, 'a file or a weights name'],
    ['layerNorm', 'no', 'true or false'],
    ['k', [1, 5], null],
    ['k', [], 'a list of positive integers such as 1,2,4,8'],
    ['k', [1, 0], 'a list of positive integers such as 1,2,4,8'],
  ];
  for (const [key, value, expected] of cases) {
    test(`${key} = ${JSON.stringify(value)}: ${expected ?? 'fits'}`, () => {
      assert.equal(problemOf(key, value), expected);
    });
  }

  test('resolveConfig names the flag of a bad value, whichever layer it came from', () => {
    assert.throws(
      () => resolveConfig({ flags: { dataset: 'fashion-mnist', temperature: 0 } }),
      (e) => e instanceof UsageError && e.message === '--temperature: expected a positive number, got 0',
    );
  });
});

test("a ViT's resize and crop default to its publisher's eval pipeline; given ones (flag or file) stay", () => {
  const sizes = (flags: Record<string, unknown>, file: Record<string, unknown> = {}) => {
    const c = resolveConfig({ flags: { dataset: 'fashion-mnist', ...flags }, file });
    return [c.resize, c.crop];
  };
  assert.deepEqual(sizes({ arch: 'resnet50' }), [256, 224]);
  assert.deepEqual(sizes({ arch: 'vit_l_16' }), [242, 224]);
  assert.deepEqual(sizes({ arch: 'clip_vitb16' }), [224, 224]);
  assert.deepEqual(sizes({ arch: 'dinov2_vitb14' }), [256, 224]);
  assert.deepEqual(sizes({ arch: 'clip_vitb32', resize: 288 }), [288, 224]);
  assert.deepEqual(sizes({ arch: 'clip_vitb32' }, { crop: 196 }), [224, 196]);
  assert.deepEqual(sizes({}, { arch: 'vit_l_16' }), [242, 224]);
});

test('--layer-decay applies to ViTs only; --lr-warmup-epochs must leave main epochs; --schedule is step or cosine', () => {
  const usage = (flags: Record<string, unknown>, message: string) =>
    assert.throws(
      () => resolveConfig({ flags: { dataset: 'fashion-mnist', ...flags } }),
      (e) => e instanceof UsageError && e.message === message,
    );
  usage({ arch: 'resnet50', layerDecay: 0.75 }, '--layer-decay 0.75: applies to the ViT architectures, not resnet50');
  usage({ layerDecay: 0 }, '--layer-decay: expected a number in (0, 1], got 0');
  usage(
    { lrWarmupEpochs: 4, epochsPerStep: 2, numSteps: 2 },
    "--lr-warmup-epochs 4 must be fewer than the main phase's 4 epochs (--epochs-per-step x --num-steps)",
  );
  usage({ schedule: 'linear' }, '--schedule: expected step or cosine, got "linear"');
  const c = resolveConfig({
    flags: { dataset: 'fashion-mnist', arch: 'dino_vits16', layerDecay: 0.75, schedule: 'cosine', lrWarmupEpochs: 3 },
  });
  assert.deepEqual([c.layerDecay, c.schedule, c.lrWarmupEpochs], [0.75, 'cosine', 3]);
});

describe('flag values', () => {
  test('parsed to the key type and checked, errors naming the flag', () => {
    assert.equal(parseTrainFlag('lr', '0.5'), 0.5);
    assert.equal(parseTrainFlag('dim', '64'), 64);
    assert.deepEqual(parseTrainFlag('k', '8,1,8'), [1, 8]);
    assert.equal(parseTrainFlag('loss', 'triplet'), 'triplet');
    const usage = (fn: () => unknown, message: string) =>
      assert.throws(fn, (e) => e instanceof UsageError && e.message === message);
    usage(() => parseTrainFlag('lr', 'fast'), '--lr: expected a number, got "fast"');
    usage(() => parseTrainFlag('dim', '2.5'), '--dim: expected a positive integer, got 2.5');
    usage(
      () => parseTrainFlag('maxBatchesPerEpoch', '-1', '--max-batches'),
      '--max-batches: expected a non-negative integer, got -1',
    );
    usage(() => parseTrainFlag('sampler', 'random'), '--sampler: expected balanced or shuffle, got "random"');
  });

  test('switches count only when given (commander sets --no-layer-norm true when it is not)', () => {
    assert.deepEqual(flagsToConfig({ layerNorm: true, nmi: undefined, lr: '0.5', preset: 'cub' }), { lr: 0.5 });
    assert.deepEqual(flagsToConfig({ layerNorm: false, nmi: true, skipBadImages: true }), {
      layerNorm: false,
      nmi: true,
      skipBadImages: true,
    });
  });
});

describe('a --config file: the same keys; a bad one is one line naming the file and the key (exit 3)', () => {
  const write = (name: string, doc: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(doc));
    return path;
  };
  const input = (path: string, message: string) =>
    assert.throws(
      () => readConfigFile(path),
      (e) => e instanceof InputError && e.exitCode === 3 && e.message === message,
    );

  test('every key of the schema is accepted with its default value', () => {
    const path = write('all.json', { preset: 'sop', ...DEFAULTS });
    assert.deepEqual(readConfigFile(path), { preset: 'sop', ...DEFAULTS });
  });

  test('an unknown key, a wrong type, a value out of bounds, an unknown preset', () => {
    const unknown = write('unknown.json', { lr: 0.1, learningRate: 0.1 });
    input(unknown, `--config ${unknown}: unknown key "learningRate"`);
    const type = write('type.json', { lr: 'fast' });
    input(type, `--config ${type}: key "lr": expected a number, got "fast"`);
    const bound = write('bound.json', { batchSize: 0 });
    input(bound, `--config ${bound}: key "batchSize": expected a positive integer, got 0`);
    const list = write('list.json', { k: '1,2' });
    input(list, `--config ${list}: key "k": expected a list of positive integers such as 1,2,4,8, got "1,2"`);
    const flag = write('switch.json', { nmi: 'yes' });
    input(flag, `--config ${flag}: key "nmi": expected true or false, got "yes"`);
    const preset = write('preset.json', { preset: 'imagenet' });
    input(preset, `--config ${preset}: key "preset": expected one of cub, cars196, sop, inshop, got "imagenet"`);
    const root = write('root.json', { root: 7 });
    input(root, `--config ${root}: key "root": expected a string, got 7`);
    const arch = write('arch.json', { arch: 'x'.repeat(500) });
    assert.throws(
      () => readConfigFile(arch),
      // The message lists the 18 architectures (~330 characters) but not the 500-character value.
      (e) => e instanceof InputError && e.message.length < 500 && /\(500 characters\)$/.test(e.message),
      'a long value is quoted in part',
    );
  });

  test('through the train command: the file below the flags; its values checked before the flags override them', () => {
    const path = write('layers.json', { dataset: 'fashion-mnist', dim: 64, lr: 0.2 });
    const c = trainConfigFromFlags({ config: path, lr: '0.3', nmi: true });
    assert.deepEqual([c.dataset, c.dim, c.lr, c.nmi], ['fashion-mnist', 64, 0.3, true]);
  });
});

describe('commander options generated from the schema', () => {
  const schemaFlags = TRAIN_KEYS.map(commandLineFlag);

  test('train takes every key, then its own flags', () => {
    const flags = longFlags(commandOf(registerTrain, 'train'));
    for (const f of schemaFlags) assert.ok(flags.includes(f), `train ${f}`);
    assert.deepEqual(
      flags.filter((f) => !schemaFlags.includes(f)),
      [
        '--preset',
        '--config',
        '--resume',
        '--allow-world-size-change',
        '--split-file',
        '--nproc-per-node',
        '--nnodes',
        '--node-rank',
        '--master-addr',
        '--master-port',
        '--dist-timeout',
      ],
    );
    const dim = commandOf(registerTrain, 'train').options.find((o) => o.long === '--dim');
    assert.equal(dim?.flags, '--dim <n>');
    assert.equal(dim?.description, 'embedding size (default 2048)');
    assert.equal(dim?.defaultValue, undefined, 'no commander default: an unset flag leaves the lower layers');
  });

  test('experiment takes every key but its own --dataset, --root and --out (declared once)', () => {
    const flags = longFlags(commandOf(registerExperiment, 'experiment'));
    for (const f of schemaFlags) assert.ok(flags.includes(f), `experiment ${f}`);
    for (const own of ['--dataset', '--root', '--out']) assert.equal(flags.filter((f) => f === own).length, 1, own);
    assert.deepEqual(
      flags.filter((f) => !schemaFlags.includes(f)),
      ['--quick', '--budget'],
    );
  });

  test('demo takes --seed, --threads, --precision and --max-batches (maxBatchesPerEpoch) from it', () => {
    const demo = commandOf(registerDemo, 'demo');
    const byFlag = new Map(demo.options.map((o) => [o.long, o]));
    assert.equal(byFlag.get('--seed')?.description, 'random seed (default 0)');
    assert.equal(byFlag.get('--threads')?.description, 'CPU threads (default: all cores)');
    assert.equal(byFlag.get('--max-batches')?.flags, '--max-batches <n>');
    assert.equal(byFlag.get('--precision')?.flags, '--precision <p>');
  });
});
