// The loss registry (src/loss/index.ts: name -> factory) and the batch context a loss gets from the trainer
// (beginBatch): NormSoftmax draws its class subset S there, from the whole batch's labels, so that a rank
// that sees only part of the batch softmaxes over the S of the whole batch.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { sampleClassSubset } from '../../src/loss/class-subset.js';
import { createLoss, LOSS_NAMES, LOSSES, type LossSettings } from '../../src/loss/index.js';
import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import { ProxyNcaLoss } from '../../src/loss/proxynca.js';
import { TripletSemiHardLoss } from '../../src/loss/triplet.js';
import type { BatchContext } from '../../src/loss/types.js';
import { F, Generator, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { problemOf } from '../../src/train/config-schema.js';
import { Rng } from '../../src/util/rng.js';

const SETTINGS: LossSettings = { temperature: 0.1, classFraction: 0.5, margin: 0.3, seed: 4, device: 'cpu' };

test('the registry: --loss choices are its names, and each factory reads its settings', () => {
  assert.deepEqual(LOSS_NAMES, ['normsoftmax', 'triplet', 'proxynca']);
  assert.deepEqual(Object.keys(LOSSES), LOSS_NAMES);
  assert.equal(problemOf('loss', 'proxynca'), null);
  assert.equal(problemOf('loss', 'arcface'), 'one of normsoftmax, triplet, proxynca');

  const ns = createLoss('normsoftmax', { numClasses: 10, dim: 8, options: SETTINGS });
  assert.ok(ns instanceof NormSoftmaxLoss);
  assert.deepEqual([ns.temperature, ns.classFraction, ns.subsetSize, ns.dim], [0.1, 0.5, 5, 8]);
  // its subsampling RNG is seeded seed + 1, as training has always seeded it
  assert.deepEqual(ns.rng.state(), new Rng(5).state());
  ns.weight.dispose();

  const triplet = createLoss('triplet', { numClasses: 10, dim: 8, options: SETTINGS });
  assert.ok(triplet instanceof TripletSemiHardLoss);
  assert.equal(triplet.margin, 0.3);

  const proxies = createLoss('proxynca', { numClasses: 10, dim: 8, options: SETTINGS });
  assert.ok(proxies instanceof ProxyNcaLoss);
  assert.deepEqual(proxies.proxies.shape, [10, 8]);
  proxies.proxies.dispose();

  assert.throws(
    () => createLoss('arcface' as never, { numClasses: 10, dim: 8, options: SETTINGS }),
    /unknown loss "arcface"; expected one of normsoftmax, triplet, proxynca/,
  );
});

test('the trainer and the session name no loss: they look losses up by name', () => {
  for (const file of ['src/train/trainer.ts', 'src/train/session.ts']) {
    const code = readFileSync(file, 'utf8');
    assert.doesNotMatch(code, /NormSoftmax|Triplet|ProxyNca|class-subset/, file);
  }
});

const context = (labels: number[]): BatchContext => ({ labels, epoch: 0, step: 0, rank: 0, worldSize: 2 });

test("NormSoftmax's beginBatch: S drawn from the whole batch, used by the next forward on a part of it", () => {
  scope(() => {
    const global = [0, 0, 1, 1, 2, 2, 3, 3];
    const local = [0, 0, 1, 1];
    const make = () =>
      new NormSoftmaxLoss({ numClasses: 10, dim: 4, classFraction: 0.6, rng: new Rng(5), generator: new Generator(2) });
    const x = F.normalize(
      tensor(
        Array.from({ length: 16 }, (_, i) => Math.sin(i * 0.9)),
        { shape: [4, 4] },
      ),
    );
    const y = tensor(local, { dtype: 'int64' });

    const withContext = make();
    withContext.beginBatch(context(global));
    const value = withContext.forward(x, y).item();
    const s = withContext.lastClasses as number[];
    assert.equal(s.length, 6);
    for (const c of [0, 1, 2, 3]) assert.ok(s.includes(c), `S holds class ${c} of the other rank's half`);

    // the same numbers as the explicit subset of the whole batch (what a rank used to compute)
    const explicit = make();
    const classes = sampleClassSubset(global, 10, explicit.subsetSize, explicit.rng).classes;
    assert.deepEqual(classes, s);
    assert.equal(explicit.forwardOnClasses(x, y, classes).item(), value);

    // without a context, forward draws from its own labels (one process, or a loss called directly)
    const alone = make();
    alone.forward(x, y);
    const own = alone.lastClasses as number[];
    const fromLocal = sampleClassSubset(local, 10, 6, new Rng(5)).classes;
    assert.deepEqual(own, fromLocal);
    assert.notDeepEqual(own, s);

    // the drawn S is for one forward only: the next forward draws again, from its labels
    withContext.forward(x, y);
    const rng = new Rng(5);
    sampleClassSubset(global, 10, 6, rng);
    assert.deepEqual(withContext.lastClasses, sampleClassSubset(local, 10, 6, rng).classes);
    for (const l of [withContext, explicit, alone]) l.weight.dispose();
  });
});

test('with the full softmax, beginBatch draws nothing (the RNG does not move) and a label outside C is refused', () => {
  const loss = new NormSoftmaxLoss({ numClasses: 4, dim: 4, rng: new Rng(3) });
  const before = loss.rng.state();
  loss.beginBatch(context([0, 1, 2, 3]));
  assert.deepEqual(loss.rng.state(), before);
  const sub = new NormSoftmaxLoss({ numClasses: 4, dim: 4, classFraction: 0.5 });
  assert.throws(() => sub.beginBatch(context([0, 7])), /NormSoftmaxLoss: label 7 is outside \[0, 4\)/);
  for (const l of [loss, sub]) (l.weight as Tensor).dispose();
});
