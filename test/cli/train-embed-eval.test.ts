// End to end through the command line on the CUB-layout fixture: train (warm-up + one epoch, with
// evaluation), embed the test split from the checkpoint, evaluate from the checkpoint; what the run prints
// and writes (table, plain progress lines, report.html) holds the metrics it computed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadNpy } from '../../src/io/npy.js';
import { describeRun, runCli } from '../helpers/cli.js';

const CUB = join(import.meta.dirname, '..', 'fixtures', 'datasets', 'cub', 'CUB_200_2011');
const out = mkdtempSync(join(tmpdir(), 'normsoftmax-cli-'));
after(() => rmSync(out, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args);

const TRAIN = ['train', '--dataset', 'cub', '--root', CUB, '--arch', 'resnet18', '--dim', '32', '--batch-size', '4'];
const SMALL = [
  '--images-per-class',
  '2',
  '--resize',
  '64',
  '--crop',
  '56',
  '--epochs-per-step',
  '1',
  '--num-steps',
  '1',
];

test('train -> embed -> eval on the CUB fixture', () => {
  const run = join(out, 'cub');
  const train = cli(...TRAIN, ...SMALL, '--warmup-epochs', '1', '--k', '1,2', '--out', run);
  assert.equal(train.code, 0, describeRun(TRAIN, train));
  for (const f of ['last.safetensors', 'metrics.jsonl', 'report.html', 'config.json'])
    assert.ok(existsSync(join(run, f)), f);
  const epochs = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'epoch');
  assert.deepEqual(
    epochs.map((r) => r.phase),
    ['warmup', 'train'],
  );
  // The printed table, the log line and report.html hold the recall the run recorded.
  const recall = epochs[1].eval.float.recall as Record<string, number>;
  const binaryRecall = epochs[1].eval.binary?.recall as Record<string, number> | undefined;
  for (const k of ['1', '2']) {
    const v = (recall[k] as number).toFixed(2).replace('.', '\\.');
    assert.match(train.stdout, new RegExp(`^R@${k} \\(%\\)\\s+${v}\\b`, 'm'));
    assert.match(train.stdout + train.stderr, new RegExp(`epoch 2: float .*R@${k} ${v}`));
  }
  const html = readFileSync(join(run, 'report.html'), 'utf8');
  const row = (k: string) =>
    `<tr><td>R@${k} (%)</td><td>${(recall[k] as number).toFixed(2)}</td>` +
    (binaryRecall ? `<td>${(binaryRecall[k] as number).toFixed(2)}</td>` : '') +
    '</tr>';
  assert.ok(html.includes(row('1')) && html.includes(row('2')), 'report.html has the final Recall@K');
  assert.ok(html.includes('Final zero-shot retrieval (epoch 2)'));
  assert.equal((html.match(/<svg/g) ?? []).length, 2, 'loss and recall plots');
  // Not on a terminal: plain progress lines, no carriage returns or escape codes.
  assert.match(train.stderr, /^epoch \d+\/\d+ .*eta /m);
  assert.ok(!train.stderr.includes('\r') && !train.stderr.includes('\u001b['), 'plain progress lines');

  const npy = join(out, 'test.npy');
  const embed = cli(
    'embed',
    '--checkpoint',
    join(run, 'last.safetensors'),
    '--dataset',
    'cub',
    '--root',
    CUB,
    '--split',
    'test',
    '--out',
    npy,
  );
  assert.equal(embed.code, 0, embed.stderr);
  const x = loadNpy(npy);
  assert.deepEqual(x.shape, [15, 32]);
  const norms = x.norm(2, 1).toArray();
  for (const n of norms) assert.ok(Math.abs(n - 1) < 1e-5, `embeddings are unit length (${n})`);
  const sidecar = JSON.parse(readFileSync(join(out, 'test.json'), 'utf8'));
  assert.equal(sidecar.paths.length, 15);
  assert.equal(sidecar.labels.length, 15);

  const evaluated = cli(
    'eval',
    '--checkpoint',
    join(run, 'last.safetensors'),
    '--dataset',
    'cub',
    '--root',
    CUB,
    '--k',
    '1,2',
    '--json',
  );
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const result = JSON.parse(evaluated.stdout);
  // The same model on the same split: eval's Recall@K equals the trainer's last evaluation.
  assert.deepEqual(result.float.recall, epochs[1].eval.float.recall);
});

test('bad input stops with one line, the exit code of its kind and no stack trace', () => {
  const cases: [string[], number, RegExp][] = [
    [[...TRAIN, '--lr', 'fast'], 2, /--lr: expected a number, got "fast"/],
    [[...TRAIN, '--images-per-class', '3'], 2, /--batch-size 4 must be a multiple of --images-per-class 3/],
    [['train', '--dataset', 'cub', '--root', join(out, 'nowhere')], 3, /--root .*nowhere does not exist/],
    [['train', '--preset', 'imagenet', '--root', CUB], 2, /--preset: expected one of cub, cars196, sop, inshop/],
    [['train', '--config', join(out, 'missing.json')], 3, /--config .*missing\.json: file not found/],
    [
      ['embed', '--checkpoint', join(out, 'missing.safetensors'), '--images', CUB, '--out', join(out, 'x.npy')],
      3,
      /--checkpoint .*missing\.safetensors: file not found/,
    ],
  ];
  for (const [args, code, pattern] of cases) {
    const r = cli(...args);
    assert.equal(r.code, code, describeRun(args, r));
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});
