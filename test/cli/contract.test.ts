// The command-line contract (issue 8, point 17): training options resolve as defaults < --preset <
// --config FILE < flags; the presets are the spec's (section 3, K lists of section 4); every command exits
// by the rule of src/util/errors.ts (2 usage, 3 bad input, 1 failure) with one line on stderr.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { register, trainConfigFromFlags } from '../../src/cli/commands/train.js';
import { saveNpy } from '../../src/io/npy.js';
import { tensor } from '../../src/tensor/index.js';
import { DEFAULTS, PRESETS, type TrainConfig } from '../../src/train/config.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { writeImageFolder } from '../helpers/images.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-contract-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The configuration `normsoftmax train ARGV` would run with: commander's parsing, then the CLI's resolution. */
function resolveTrain(argv: string[]): TrainConfig {
  const program = new Command().exitOverride();
  register(program);
  const train = program.commands.find((c) => c.name() === 'train') as Command;
  let config: TrainConfig | undefined;
  train.action((raw) => {
    config = trainConfigFromFlags(raw);
  });
  program.parse(['node', 'normsoftmax', 'train', ...argv]);
  return config as TrainConfig;
}

describe('training options: defaults < preset < config file < flags', () => {
  test('one key set at each layer comes from the highest layer that sets it', () => {
    const file = join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({ root: '/data/sop', imagesPerClass: 3, lr: 0.02, dim: 256 }));
    const c = resolveTrain(['--preset', 'sop', '--config', file, '--lr', '0.05']);
    assert.equal(c.temperature, DEFAULTS.temperature, 'default: set by no layer');
    assert.equal(c.dataset, 'sop', 'preset over default (cub)');
    assert.deepEqual(c.k, [1, 10, 100, 1000], "preset's K list over the default's");
    assert.equal(c.imagesPerClass, 3, 'config over preset (5)');
    assert.equal(c.dim, 256, 'config over default (2048)');
    assert.equal(c.root, '/data/sop', 'config');
    assert.equal(c.lr, 0.05, 'flag over config (0.02) over preset (0.01)');
    assert.equal(c.batchSize, 75, "preset's batch size");
  });

  test('a preset named in the config file applies below the file; --preset on the command line wins', () => {
    const file = join(dir, 'preset-in-file.json');
    writeFileSync(file, JSON.stringify({ preset: 'cub', root: '/data/cub', batchSize: 50 }));
    const fromFile = resolveTrain(['--config', file]);
    assert.equal(fromFile.lr, 0.001, "cub's lr from the file's preset");
    assert.equal(fromFile.batchSize, 50, 'the file over its own preset');
    const overridden = resolveTrain(['--config', file, '--preset', 'cars196', '--k', '1,5']);
    assert.equal(overridden.dataset, 'cars196');
    assert.equal(overridden.lr, 0.01);
    assert.deepEqual(overridden.k, [1, 5], '--k over the preset');
  });

  test('without a preset, K follows the data set (spec section 4)', () => {
    assert.deepEqual(resolveTrain(['--dataset', 'inshop', '--root', '/x']).k, [1, 10, 20, 30, 40, 50]);
    assert.deepEqual(resolveTrain(['--dataset', 'folder', '--root', '/x']).k, [1, 2, 4, 8]);
  });
});

test('the presets are the official settings of the spec (sections 3 and 4)', () => {
  // Spec section 3: lr, images per class and classes per batch (batch 75); section 4: the K lists.
  const spec: Record<string, { lr: number; imagesPerClass: number; classesPerBatch: number; k: number[] }> = {
    cub: { lr: 0.001, imagesPerClass: 25, classesPerBatch: 3, k: [1, 2, 4, 8] },
    cars196: { lr: 0.01, imagesPerClass: 25, classesPerBatch: 3, k: [1, 2, 4, 8] },
    sop: { lr: 0.01, imagesPerClass: 5, classesPerBatch: 15, k: [1, 10, 100, 1000] },
    inshop: { lr: 0.01, imagesPerClass: 5, classesPerBatch: 15, k: [1, 10, 20, 30, 40, 50] },
  };
  assert.deepEqual(Object.keys(PRESETS).sort(), Object.keys(spec).sort());
  for (const [name, want] of Object.entries(spec)) {
    const c = resolveTrain(['--preset', name, '--root', '/data']);
    assert.equal(c.dataset, name);
    assert.equal(c.lr, want.lr, `${name} lr`);
    assert.equal(c.imagesPerClass, want.imagesPerClass, `${name} images per class`);
    assert.equal(c.batchSize / c.imagesPerClass, want.classesPerBatch, `${name} classes per batch`);
    assert.deepEqual(c.k, want.k, `${name} K list`);
    // The recipe shared by all (section 3): SGD momentum 0.9, weight decay 1e-4, gamma 0.1 every 15 epochs,
    // 2 steps, a 1-epoch warm-up, evaluation every 5 epochs, NormSoftmax at T = 0.05 (section 2).
    assert.deepEqual(
      [c.optimizer, c.momentum, c.weightDecay, c.gamma, c.epochsPerStep, c.numSteps, c.warmupEpochs, c.evalEvery],
      ['sgd', 0.9, 1e-4, 0.1, 15, 2, 1, 5],
      `${name} recipe`,
    );
    assert.equal(c.loss, 'normsoftmax');
    assert.equal(c.temperature, 0.05);
  }
});

describe('exit codes: 2 usage, 3 bad input, 1 failure; one line on stderr', () => {
  const images = join(dir, 'images');
  const empty = join(dir, 'empty-root');
  const corruptNpy = join(dir, 'corrupt.npy');
  const corruptCheckpoint = join(dir, 'corrupt.safetensors');
  const good = join(dir, 'good.npy');
  let closedPort = 0;

  before(async () => {
    await writeImageFolder(images, 1, 1, { size: 16 });
    mkdirSync(empty);
    writeFileSync(corruptNpy, Buffer.from('\x93NUMPY\x01\x00garbage that is not a header'));
    writeFileSync(corruptCheckpoint, Buffer.from('not a safetensors file at all'));
    saveNpy(
      good,
      tensor([
        [1, 0],
        [0, 1],
      ]),
    );
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    closedPort = (server.address() as { port: number }).port;
    await new Promise((done) => server.close(done));
  });

  const expectExit = (args: string[], code: number, pattern: RegExp, env?: Record<string, string>) => {
    const r = runCli(args, { env });
    assert.equal(r.code, code, describeRun(args, r));
    assert.equal(r.stdout, '', describeRun(args, r));
    // One error line (commander's own start with "error:"; ours with "normsoftmax:"), whatever logs precede it.
    const errors = r.stderr.split('\n').filter((line) => /^(normsoftmax|error): /.test(line));
    assert.equal(errors.length, 1, describeRun(args, r));
    assert.match(errors[0] as string, pattern, describeRun(args, r));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  };

  test('2: an unknown flag, a flag value of the wrong kind, a missing required flag', () => {
    expectExit(['train', '--no-such-flag'], 2, /unknown option '--no-such-flag'/);
    expectExit(['eval', '--embeddings', good, '--k', '1,zero'], 2, /--k: expected a comma-separated list/);
    expectExit(['embed', '--images', images, '--out', join(dir, 'x.npy')], 2, /required option '--checkpoint/);
    expectExit(['train', '--dataset', 'cub'], 2, /^normsoftmax: --root is required for --dataset cub$/);
  });

  test('3: a missing file, a corrupt .npy, a corrupt checkpoint, a data set root without its lists', () => {
    expectExit(['eval', '--embeddings', join(dir, 'missing.npy')], 3, /^normsoftmax: .*missing\.npy: cannot open/);
    expectExit(['eval', '--embeddings', corruptNpy, '--labels', corruptNpy], 3, /^normsoftmax: .*corrupt\.npy: /);
    const embed = ['embed', '--checkpoint', corruptCheckpoint, '--arch', 'resnet18', '--images', images];
    expectExit([...embed, '--out', join(dir, 'y.npy')], 3, /^normsoftmax: .*corrupt\.safetensors/);
    expectExit(['data', 'check', '--dataset', 'cub', '--root', empty], 3, /^normsoftmax: cub: images\.txt not found/);
  });

  test('1: the work failed (a download that cannot connect)', () => {
    const table = join(dir, 'table.json');
    const url = `http://127.0.0.1:${closedPort}/CUB_200_2011.tgz`;
    writeFileSync(
      table,
      JSON.stringify({ cub: [{ url, file: 'CUB_200_2011.tgz', md5: '0'.repeat(32), provides: 'CUB_200_2011' }] }),
    );
    expectExit(['data', 'download', 'cub', '--root', join(dir, 'dl')], 1, /^normsoftmax: .*127\.0\.0\.1/, {
      NORMSOFTMAX_DOWNLOAD_TABLE: table,
    });
  });
});
