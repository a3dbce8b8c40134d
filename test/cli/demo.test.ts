// The demo's recipe: what it prints is the schedule it runs, and --epochs keeps the schedule's shape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEMO_CONFIG, recipeLine } from '../../src/cli/commands/demo.js';
import { resolveConfig } from '../../src/train/config.js';
import { planEpoch } from '../../src/train/schedule.js';
import { describeRun, runCli } from '../helpers/cli.js';

test("the demo's recipe: 8 epochs, lr 0.01 for 4 then 0.001 for 4, T 0.05 with the LayerNorm head", () => {
  const c = resolveConfig({ flags: DEMO_CONFIG });
  const lrs = Array.from({ length: c.epochsPerStep * c.numSteps }, (_, e) => +planEpoch(e, c).lr.toPrecision(3));
  assert.deepEqual(lrs, [0.01, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.001]);
  assert.equal(c.temperature, 0.05);
  assert.equal(c.layerNorm, true);
  assert.equal(
    recipeLine(c),
    'recipe: smallcnn 128-d, LayerNorm head, NormSoftmax T=0.05; SGD (momentum 0.9, weight decay 0.0001) ' +
      'lr 0.01 then 0.001, 4 epochs each; 150 class-balanced batches of 100 (5 classes x 20) per epoch, ' +
      'random horizontal flips; evaluation every 4 epochs',
  );
  assert.equal(
    recipeLine({ ...c, numSteps: 1, epochsPerStep: 1, evalEvery: 1 }).split('; ')[1],
    'SGD (momentum 0.9, weight decay 0.0001) lr 0.01 for 1 epoch',
  );
});

test('demo --epochs must be 1 or even (the lr drops after half of them): one line, exit 2', () => {
  const r = runCli(['demo', '--epochs', '3', '--out', 'unused']);
  assert.equal(r.code, 2, describeRun(['demo', '--epochs', '3'], r));
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /--epochs: expected 1 or an even number/);
});
