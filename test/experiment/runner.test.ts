// A study end to end on a tiny Fashion-MNIST folder: the results files (shape, table, plot), a finished point
// that is not re-run, a point cut short that resumes from its checkpoint, and a folder of another config.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadDataset } from '../../src/data/formats/index.js';
import { studyBaseConfig } from '../../src/experiment/budget.js';
import { studyGrid } from '../../src/experiment/grids.js';
import type { PointResult, StudyResults } from '../../src/experiment/results.js';
import { pointConfig, runStudy } from '../../src/experiment/runner.js';
import type { TrainConfig } from '../../src/train/config.js';
import { readMetrics } from '../../src/train/metrics.js';
import { runSession } from '../../src/train/session.js';
import { UsageError } from '../../src/util/errors.js';
import { tinyFashionRoot } from './tiny-mnist.js';

const root = tinyFashionRoot();
const out = join(root, 'study');
after(() => rmSync(root, { recursive: true, force: true }));

const RECIPE: Partial<TrainConfig> = { arch: 'smallcnn', dim: 32, batchSize: 100, imagesPerClass: 20, lr: 0.05 };
const dataset = loadDataset('fashion-mnist', root);
const base = (flags: Partial<TrainConfig> = {}) =>
  studyBaseConfig({
    dataset: 'fashion-mnist',
    budget: 'quick',
    mnistRecipe: RECIPE,
    flags: { root, maxBatchesPerEpoch: 1, threads: 2, ...flags },
  });
const run = (b: TrainConfig, lines: string[] = []) =>
  runStudy({ study: 'layernorm', base: b, budget: 'quick', dataset, out, silent: true, log: (l) => lines.push(l) });
const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

describe('layernorm study on a tiny data set', () => {
  const grid = studyGrid('layernorm', { base: base(), numClasses: 5 });
  const [on, off] = grid.points.map((p) => pointConfig(base(), p, out)) as [TrainConfig, TrainConfig];

  test('a finished point is not re-run; the results hold every point in grid order', async () => {
    // "layernorm-off" finished before (its result file), with a recall nobody could train to by chance.
    const finished: PointResult = {
      row: {
        point: 'layernorm-off',
        setting: { layerNorm: false },
        float: { recall: { '1': 12.5, '2': 25, '4': 50, '8': 75 } },
        binary: { recall: { '1': 6.25, '2': 12.5, '4': 25, '8': 50 } },
        trainSeconds: 3,
        stepSeconds: 1.5,
        steps: 2,
        epochs: 1,
      },
      config: off,
    };
    mkdirSync(off.out, { recursive: true });
    writeFileSync(join(off.out, 'result.json'), JSON.stringify(finished));
    const lines: string[] = [];
    const r = await run(base(), lines);
    assert.ok(existsSync(join(on.out, 'last.safetensors')));
    assert.ok(!existsSync(join(off.out, 'last.safetensors')), 'the finished point was trained again');
    assert.ok(lines.includes('[1/2] layernorm-on: training in ' + on.out), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('[2/2] layernorm-off: finished before: R@1 float 12.50 binary 6.25')));

    const doc = readJson<StudyResults>(join(out, 'results.json'));
    assert.deepEqual(doc, JSON.parse(JSON.stringify(r)));
    assert.equal(doc.study, 'layernorm');
    assert.equal(doc.dataset, 'fashion-mnist');
    assert.deepEqual(
      doc.rows.map((row) => row.setting),
      [{ layerNorm: true }, { layerNorm: false }],
    );
    const trained = doc.rows[0] as PointResult['row'];
    assert.ok(
      trained.float.recall['1'] !== undefined && trained.float.recall['1'] >= 0 && trained.float.recall['1'] <= 100,
    );
    assert.equal(typeof trained.binary.recall['1'], 'number');
    assert.ok(trained.trainSeconds > 0);
    assert.equal(trained.steps, 1);
    assert.equal(trained.stepSeconds, trained.trainSeconds);
    // The trained point's row equals its run's own final evaluation.
    const epochs = readMetrics(join(on.out, 'metrics.jsonl')).filter((m) => m.type === 'epoch');
    assert.equal(epochs.length, 1);
    assert.deepEqual(epochs[0]?.type === 'epoch' && epochs[0].eval?.float.recall, trained.float.recall);
    assert.deepEqual(doc.rows[1], finished.row);
    assert.deepEqual(readJson<PointResult>(join(on.out, 'result.json')).row, trained);

    const md = readFileSync(join(out, 'results.md'), 'utf8');
    assert.match(md, /^# layernorm: LayerNorm head on fashion-mnist \(quick budget\)\n/);
    assert.match(
      md,
      /\n2 of 2 points finished\. Recall@K in %, on the test classes; base: smallcnn, dim 32, loss normsoftmax, T 0\.05, lr 0\.05, 1 epoch \(at most 1 batch each\) of batches of 100 \(20 per class\)\.\n/,
    );
    assert.match(
      md,
      /\n\| without \| 12\.50 \| 25\.00 \| 50\.00 \| 75\.00 \| 6\.25 \| 12\.50 \| 25\.00 \| 50\.00 \| 3\.0 \| 1500\.0 \|\n/,
    );
    const svg = readFileSync(join(out, 'results.svg'), 'utf8');
    assert.match(svg, /^<svg /);
    assert.equal([...svg.matchAll(/aria-roledescription="point"/g)].length, 4);
    assert.match(svg, /aria-label="layerNorm: without; Recall@1 \(%\): 6.25; kind: binary"/);
  });

  test('a point cut short resumes from its checkpoint; the study finishes it', async () => {
    // Two epochs planned; the run stopped after the first one (its checkpoint), before its result file.
    const planned = base({ numSteps: 2 });
    const two = pointConfig(planned, grid.points[0] as (typeof grid.points)[0], out);
    rmSync(out, { recursive: true, force: true });
    const first = await runSession({ ...two, numSteps: 1 }, { dataset, silent: true, log: () => {} });
    first.model.dispose();
    writeFileSync(join(two.out, 'config.json'), JSON.stringify(two));
    const lines: string[] = [];
    const r = await run(planned, lines);
    assert.ok(
      lines.includes(`[1/2] layernorm-on: resuming from ${join(two.out, 'last.safetensors')}`),
      lines.join('\n'),
    );
    assert.ok(lines.includes('resuming after epoch 1 of 2'), lines.join('\n'));
    assert.ok(lines.includes(`[2/2] layernorm-off: training in ${join(out, 'layernorm-off')}`));
    assert.deepEqual(
      r.rows.map((row) => [row.point, row.epochs, row.steps]),
      [
        ['layernorm-on', 2, 2],
        ['layernorm-off', 2, 2],
      ],
    );
    const epochs = readMetrics(join(two.out, 'metrics.jsonl')).filter((m) => m.type === 'epoch');
    assert.equal(epochs.length, 2);
  });

  test('a folder run with another configuration is refused before anything trains, naming --out and the difference', async () => {
    rmSync(join(out, 'layernorm-on'), { recursive: true, force: true });
    await assert.rejects(
      run(base({ numSteps: 2, lr: 0.01 })),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          `--out: ${join(out, 'layernorm-off')} was run with another configuration (lr = 0.05 there, 0.01 now); use another --out or delete that folder`,
    );
    assert.ok(!existsSync(join(out, 'layernorm-on')), 'the first point was trained before the check');
  });
});
