// End to end through the command line on the CUB-layout fixture: train (warm-up + one epoch, with
// evaluation), embed the test split from the checkpoint, evaluate from the checkpoint, and bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadNpy } from '../../src/io/npy.js';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'normsoftmax.mjs');
const CUB = join(import.meta.dirname, '..', 'fixtures', 'datasets', 'cub', 'CUB_200_2011');
const out = mkdtempSync(join(tmpdir(), 'normsoftmax-cli-'));
after(() => rmSync(out, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NORMSOFTMAX_THREADS: '2' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

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
  assert.equal(train.code, 0, train.stderr);
  assert.match(train.stdout, /R@1\s+R@2/);
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
  assert.ok(epochs[1].eval.float.recall['1'] >= 0 && epochs[1].eval.float.recall['1'] <= 100);
  assert.match(readFileSync(join(run, 'report.html'), 'utf8'), /<svg/);

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

test('bad input stops with one line, a non-zero exit and no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [[...TRAIN, '--lr', 'fast'], /--lr: expected a number, got "fast"/],
    [[...TRAIN, '--images-per-class', '3'], /--batch-size 4 must be a multiple of --images-per-class 3/],
    [['train', '--dataset', 'cub', '--root', join(out, 'nowhere')], /nowhere/],
    [['train', '--preset', 'imagenet', '--root', CUB], /--preset: expected one of cub, cars196, sop, inshop/],
    [['train', '--config', join(out, 'missing.json')], /--config .*missing\.json: file not found/],
    [
      ['embed', '--checkpoint', join(out, 'missing.safetensors'), '--images', CUB, '--out', join(out, 'x.npy')],
      /missing\.safetensors/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const r = cli(...args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});
