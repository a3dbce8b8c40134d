// `normsoftmax experiment`: the three result files from the command line (on a tiny Fashion-MNIST folder,
// so that CI runs it in seconds), and one-line usage errors for a bad study, data set, budget or flag.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runExperiment } from '../../src/cli/commands/experiment.js';
import { UsageError } from '../../src/util/errors.js';
import { tinyFashionRoot } from '../experiment/tiny-mnist.js';
import { describeRun, runCli } from '../helpers/cli.js';

const root = tinyFashionRoot();
after(() => rmSync(root, { recursive: true, force: true }));

test('experiment layernorm --dataset fashion-mnist --quick writes results.json, results.md and results.svg', () => {
  const out = join(root, 'layernorm');
  const args = ['experiment', 'layernorm', '--dataset', 'fashion-mnist', '--quick', '--root', root];
  const r = runCli([...args, '--max-batches-per-epoch', '1', '--out', out]);
  assert.equal(r.code, 0, describeRun(args, r));
  assert.match(r.stdout, /^study layernorm on fashion-mnist \(quick budget\): LayerNorm head, 2 points in /);
  assert.match(
    r.stdout,
    /\n\[1\/2\] layernorm-on: R@1 float [\d.]+ binary [\d.]+, train [\d.]+ s \([\d.]+ ms\/step\)\n/,
  );
  assert.match(r.stdout, /\n\[2\/2\] layernorm-off: training in /);
  const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(doc.study, 'layernorm');
  assert.equal(doc.dataset, 'fashion-mnist');
  assert.equal(doc.base.maxBatchesPerEpoch, 1, 'the train flag overrides the budget');
  assert.equal(doc.base.numSteps, 1);
  assert.equal(doc.rows.length, 2);
  for (const row of doc.rows) {
    assert.equal(typeof row.float.recall['1'], 'number');
    assert.equal(typeof row.binary.recall['1'], 'number');
    assert.equal(typeof row.trainSeconds, 'number');
  }
  assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /\n\| with \| [\d.]+ \|/);
  assert.match(readFileSync(join(out, 'results.svg'), 'utf8'), /^<svg /);
  for (const point of ['layernorm-on', 'layernorm-off']) {
    for (const f of ['config.json', 'metrics.jsonl', 'last.safetensors', 'result.json'])
      assert.ok(existsSync(join(out, point, f)), `${point}/${f}`);
  }
});

describe('bad input is one usage line naming the flag', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'unknown study',
      ['depth', '--dataset', 'mnist'],
      /^experiment STUDY: expected one of dims, temperature, layernorm, subsampling, losses, backbone, got "depth"$/,
    ],
    [
      'unknown data set',
      ['dims', '--dataset', 'imagenet'],
      /^--dataset: expected one of cub, cars196, sop, inshop, fashion-mnist, mnist, got "imagenet"$/,
    ],
    [
      'unknown budget',
      ['dims', '--dataset', 'mnist', '--budget', 'huge'],
      /^--budget: expected one of paper, miniature, quick, got "huge"$/,
    ],
    [
      '--quick with another budget',
      ['dims', '--dataset', 'mnist', '--quick', '--budget', 'paper'],
      /^--quick conflicts with --budget paper$/,
    ],
    [
      'the varied key as a flag',
      ['dims', '--dataset', 'mnist', '--dim', '64'],
      /^--dim: the dims study sets it for each point; leave it out$/,
    ],
    [
      '--class-fraction in subsampling',
      ['subsampling', '--dataset', 'mnist', '--class-fraction', '0.5'],
      /^--class-fraction: the subsampling study sets it/,
    ],
    ['--loss in losses', ['losses', '--dataset', 'mnist', '--loss', 'triplet'], /^--loss: the losses study sets it/],
    [
      'another loss for a NormSoftmax study',
      ['temperature', '--dataset', 'mnist', '--loss', 'triplet'],
      /^--loss triplet: the temperature study is about normsoftmax; leave --loss out$/,
    ],
    [
      'miniature on a preset',
      ['dims', '--dataset', 'cub', '--root', '/nowhere', '--budget', 'miniature'],
      /^--budget miniature: only for fashion-mnist and mnist; use paper or quick$/,
    ],
    ['a bad train flag', ['dims', '--dataset', 'mnist', '--lr', 'fast'], /^--lr: expected a number, got "fast"$/],
  ];
  for (const [name, argv, message] of cases) {
    test(name, async () => {
      const [study, ...rest] = argv as [string, ...string[]];
      const raw: Record<string, string | boolean> = {};
      for (let i = 0; i < rest.length; i++) {
        const key = (rest[i] as string).slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
        const value = rest[i + 1];
        if (value === undefined || value.startsWith('--')) raw[key] = true;
        else {
          raw[key] = value;
          i++;
        }
      }
      await assert.rejects(
        runExperiment(study, raw, { log: () => {} }),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    });
  }

  test('from the command line: exit 2, one line; --no-layer-norm conflicts with the layernorm study', () => {
    const r = runCli(['experiment', 'layernorm', '--dataset', 'mnist', '--no-layer-norm']);
    assert.equal(r.code, 2, describeRun(['experiment'], r));
    assert.equal(r.stderr, 'normsoftmax: --no-layer-norm: the layernorm study sets it for each point; leave it out\n');
    const missing = runCli(['experiment', 'dims']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--dataset <name>' not specified/);
  });
});
