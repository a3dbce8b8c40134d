// The study's table and plot from a results document, and which point result files count as finished.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { studyGrid } from '../../src/experiment/grids.js';
import { studyPlotSvg } from '../../src/experiment/plot.js';
import { readPointResult, resultsMarkdown, type StudyResults, type StudyRow } from '../../src/experiment/results.js';
import { DEFAULTS } from '../../src/train/config.js';

const dir = mkdtempSync(join(tmpdir(), 'study-results-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = { ...DEFAULTS, root: '/data', warmupEpochs: 1 };
const row = (dim: number, r1: number, b1: number, nmi?: number): StudyRow => ({
  point: `dim-${dim}`,
  setting: { dim },
  float: { recall: { '1': r1, '2': r1 + 1 }, ...(nmi === undefined ? {} : { nmi }) },
  binary: { recall: { '1': b1, '2': b1 + 1 } },
  trainSeconds: 10,
  stepSeconds: 0.25,
  steps: 40,
  epochs: 31,
});
const results: StudyResults = {
  study: 'dims',
  dataset: 'cub',
  budget: 'paper',
  variable: 'dim',
  points: 6,
  base,
  rows: [row(64, 50, 40, 0.6), row(128, 55, 45), row(2048, 60.125, 59)],
};
const grid = studyGrid('dims', { base, numClasses: 100 });

test('the table: a row per finished point, R@K float then binary, NMI x 100 where computed, times', () => {
  const md = resultsMarkdown(results, grid);
  const lines = md.split('\n');
  assert.equal(lines[0], '# dims: embedding size on cub (paper budget)');
  assert.equal(
    lines[2],
    '3 of 6 points finished. Recall@K in %, NMI x 100, on the test classes; base: resnet50, dim 2048, loss normsoftmax, ' +
      'T 0.05, lr 0.01, 1 warm-up + 30 epochs of batches of 75 (25 per class).',
  );
  assert.equal(lines[4], '| dim | R@1 float | R@2 float | R@1 binary | R@2 binary | NMI | train s | step ms |');
  assert.equal(lines[5], '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  assert.equal(lines[6], '| 64 | 50.00 | 51.00 | 40.00 | 41.00 | 60.00 | 10.0 | 250.0 |');
  assert.equal(lines[7], '| 128 | 55.00 | 56.00 | 45.00 | 46.00 |  | 10.0 | 250.0 |');
  assert.equal(lines[8], '| 2048 | 60.13 | 61.13 | 59.00 | 60.00 |  | 10.0 | 250.0 |');
  assert.equal(lines.length, 10);
});

test('the plot: two points per row (float, binary) on a log axis of the variable', async () => {
  const svg = await studyPlotSvg(results, grid);
  assert.match(svg, /^<svg /);
  assert.match(svg, /<\/svg>$/);
  const points = [
    ...svg.matchAll(
      /<path aria-label="dim: (\d+); Recall@1 \(%\): ([\d.]+); kind: (\w+)"[^>]*transform="translate\(([\d.]+),([\d.]+)\)"/g,
    ),
  ];
  assert.equal(points.length, 6, svg.slice(0, 400));
  const x = (dim: string) => Number(points.find((p) => p[1] === dim)?.[4]);
  // Log axis: 64 -> 128 is one doubling, 128 -> 2048 four.
  const ratio = (x('2048') - x('128')) / (x('128') - x('64'));
  assert.ok(Math.abs(ratio - 4) < 0.01, `ratio ${ratio}`);
  assert.deepEqual(
    points.map((p) => `${p[1]} ${p[3]} ${p[2]}`),
    ['64 float 50', '64 binary 40', '128 float 55', '128 binary 45', '2048 float 60.125', '2048 binary 59'],
  );
});

test('a point result counts as finished only when complete', () => {
  const path = join(dir, 'result.json');
  assert.equal(readPointResult(path), null, 'missing');
  writeFileSync(path, '{"row": {"float": {"recall": {"1": 5');
  assert.equal(readPointResult(path), null, 'cut short');
  writeFileSync(path, JSON.stringify({ row: { ...row(64, 1, 2), binary: { recall: {} } }, config: base }));
  assert.equal(readPointResult(path), null, 'no binary R@1');
  writeFileSync(path, JSON.stringify({ row: row(64, 1, 2), config: base }));
  assert.deepEqual(readPointResult(path)?.row, row(64, 1, 2));
});
