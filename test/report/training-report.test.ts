// The training run's HTML page: from known metrics.jsonl records, the final table holds the last
// evaluation's values, the epoch table one row per epoch, and the plots the loss and recall series.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainingReportHtml } from '../../src/report/training-report.js';
import type { EpochRecord, MetricsRecord } from '../../src/train/metrics.js';

const epoch = (n: number, phase: 'warmup' | 'train', loss: number, e?: EpochRecord['eval']): EpochRecord => ({
  type: 'epoch',
  epoch: n,
  phase,
  loss,
  lr: 0.01,
  imagesPerSecond: 123.45,
  seconds: 6.5,
  ...(e ? { eval: e } : {}),
});

const RECORDS: MetricsRecord[] = [
  { type: 'step', epoch: 1, step: 1, loss: 4.5, lr: 0.01 },
  epoch(1, 'warmup', 4.5),
  { type: 'step', epoch: 2, step: 2, loss: 3.25, lr: 0.01 },
  epoch(2, 'train', 3.25, { float: { recall: { '1': 40.5, '2': 55.25 } }, binary: { recall: { '1': 30, '2': 45.5 } } }),
  { type: 'step', epoch: 3, step: 3, loss: 2.125, lr: 0.001 },
  epoch(3, 'train', 2.125, {
    float: { recall: { '1': 50.125, '2': 61 }, nmi: 0.61234 },
    binary: { recall: { '1': 35, '2': 48.75 } },
  }),
];

test('the final table is the last evaluation: R@K in %, NMI x 100, float and binary columns', async () => {
  const html = await trainingReportHtml('run <cub> & co', RECORDS, ['trained on <5> classes']);
  assert.ok(html.includes('<title>run &#60;cub&#62; &#38; co</title>'), 'the title, escaped');
  assert.ok(html.includes('<p>trained on &#60;5&#62; classes</p>'), 'the notes, escaped');
  assert.ok(!html.includes('<cub>') && !html.includes('<5>'));
  assert.ok(html.includes('Final zero-shot retrieval (epoch 3)'));
  assert.ok(html.includes('<tr><th>metric</th><th>float</th><th>binary</th></tr>'));
  assert.ok(html.includes('<tr><td>R@1 (%)</td><td>50.13</td><td>35.00</td></tr>'), 'R@1 of epoch 3');
  assert.ok(html.includes('<tr><td>R@2 (%)</td><td>61.00</td><td>48.75</td></tr>'), 'R@2 of epoch 3');
  assert.ok(html.includes('<tr><td>NMI (x100)</td><td>61.23</td><td></td></tr>'), 'NMI, float only');
  assert.ok(!html.includes('40.50'), "an earlier evaluation's value is not in the table");
});

test('one epoch row per epoch, and the loss and recall plots with one line per series', async () => {
  const html = await trainingReportHtml('run', RECORDS);
  for (const [n, phase, loss] of [
    [1, 'warmup', '4.5000'],
    [2, 'train', '3.2500'],
    [3, 'train', '2.1250'],
  ]) {
    assert.ok(
      html.includes(
        `<tr><td>${n}</td><td>${phase}</td><td>${loss}</td><td>1.00e-2</td><td>123.5</td><td>6.5</td></tr>`,
      ),
    );
  }
  assert.equal((html.match(/<svg /g) ?? []).length, 2);
  const series = [...html.matchAll(/aria-roledescription="line mark"/g)].length;
  assert.equal(series, 1 + 4, 'loss, and float/binary R@1/R@2');
  for (const name of ['float R@1', 'float R@2', 'binary R@1', 'binary R@2'])
    assert.ok(html.includes(`>${name}</text>`), name);
});

test('a run without an evaluation yet has no final table', async () => {
  const html = await trainingReportHtml('run', RECORDS.slice(0, 2));
  assert.ok(html.includes('No evaluation yet.'));
  assert.ok(!html.includes('Final zero-shot retrieval'));
});
