import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import { F, Generator, memory, noGrad, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { clearRowGrads, gatheredLeafCount, gatherRows, hasRowGrad, takeRowGrad } from '../../src/tensor/row-sparse.js';
import { AdamW } from '../../src/train/optim/adamw.js';
import type { Optimizer } from '../../src/train/optim/optimizer.js';
import { SGD } from '../../src/train/optim/sgd.js';
import { maxAbsDiff } from '../helpers/golden.js';

const W0 = [
  [1, 2],
  [3, -1],
  [0.5, 0.5],
  [-2, 1],
  [4, 0],
];
const ROWS = [1, 3, 4];
const weights = (rows: number[]) => tensor(rows.map((r) => W0[r] as number[]));

/** A loss of some rows of w whose gradient differs per row: sum_k (k + 1) * w[rows[k]] . (1, step) */
function rowLoss(w: Tensor, step: number): Tensor {
  const coef = tensor(ROWS.map((_, k) => [k + 1, (k + 1) * step]));
  return w.mul(coef).sum();
}

function compareLazyRowsWithDenseSubset(make: (params: Tensor[]) => Optimizer) {
  const full = weights([0, 1, 2, 3, 4]).requiresGrad_(true);
  const sub = weights(ROWS).requiresGrad_(true);
  const optFull = make([full]);
  const optSub = make([sub]);
  for (let step = 1; step <= 3; step++) {
    optFull.zeroGrad();
    optSub.zeroGrad();
    rowLoss(gatherRows(full, ROWS), step).backward();
    rowLoss(sub, step).backward();
    assert.equal(full.grad, null);
    optFull.step();
    optSub.step();
  }
  assert.ok(maxAbsDiff(full.detach().indexSelect(0, tensor(ROWS, { dtype: 'int64' })), sub.detach()) < 1e-6);
  for (const r of [0, 2]) assert.equal(maxAbsDiff(full.detach().select(0, r), weights([r]).select(0, 0)), 0);
}

test('SGD on gathered rows equals SGD on a parameter made of those rows; other rows untouched', () => {
  scope(() => compareLazyRowsWithDenseSubset((p) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 })));
});

test('AdamW on gathered rows equals AdamW on a parameter made of those rows; other rows untouched', () => {
  scope(() => compareLazyRowsWithDenseSubset((p) => new AdamW(p, { lr: 0.05, weightDecay: 0.1 })));
});

test('first SGD step without weight decay: the row update equals the dense update', () => {
  scope(() => {
    const sparse = weights([0, 1, 2, 3, 4]).requiresGrad_(true);
    const dense = weights([0, 1, 2, 3, 4]).requiresGrad_(true);
    const optSparse = new SGD([sparse], { lr: 0.3 });
    const optDense = new SGD([dense], { lr: 0.3 });
    rowLoss(gatherRows(sparse, ROWS), 2).backward();
    rowLoss(dense.indexSelect(0, tensor(ROWS, { dtype: 'int64' })), 2).backward();
    optSparse.step();
    optDense.step();
    assert.equal(maxAbsDiff(sparse.detach(), dense.detach()), 0);
  });
});

test('row gradients of several gathers accumulate (repeated rows summed) until zeroGrad', () => {
  scope(() => {
    const w = weights([0, 1, 2, 3, 4]).requiresGrad_(true);
    gatherRows(w, [3, 1]).sum().backward();
    gatherRows(w, [1, 4])
      .mul(tensor([[2], [3]]))
      .sum()
      .backward();
    const g = takeRowGrad(w);
    assert.ok(g);
    assert.deepEqual(g.rows.toArray(), [1, 3, 4]);
    assert.deepEqual(g.values.toArray(), [3, 3, 1, 1, 3, 3]);
    const opt = new SGD([w], { lr: 1, momentum: 0 });
    opt.zeroGrad();
    assert.equal(hasRowGrad(w), false);
    assert.equal(takeRowGrad(w), null);
  });
});

test('a dense use and a gathered use of the same parameter in one step add up', () => {
  scope(() => {
    const w = weights([0, 1, 2, 3, 4]).requiresGrad_(true);
    w.sum().backward();
    gatherRows(w, [2]).sum().backward();
    new SGD([w], { lr: 1, momentum: 0 }).step();
    const expected = weights([0, 1, 2, 3, 4]).sub(1);
    noGrad(() => expected.select(0, 2).sub_(1));
    assert.equal(maxAbsDiff(w.detach(), expected), 0);
  });
});

test('gatherRows under noGrad is a plain index_select and records nothing', () => {
  scope(() => {
    const w = weights([0, 1, 2, 3, 4]).requiresGrad_(true);
    const rows = noGrad(() => gatherRows(w, [4, 0]));
    assert.deepEqual(rows.toArray(), [4, 0, 1, 2]);
    assert.equal(hasRowGrad(w), false);
  });
});

// Lifetime of gathered leaves (tensor/row-sparse.ts): freed when nobody can take their gradient, kept
// (or folded into the parameter's row gradient) while a later step may.
function subsampledLoss(): { loss: NormSoftmaxLoss; x: Tensor; y: Tensor } {
  const loss = new NormSoftmaxLoss({ numClasses: 40, dim: 4, classFraction: 0.2, generator: new Generator(3) });
  const x = F.normalize(
    tensor(
      Array.from({ length: 16 }, (_, i) => Math.cos(i + 1)),
      { shape: [4, 4] },
    ),
  );
  return { loss, x, y: tensor([0, 0, 9, 9], { dtype: 'int64' }) };
}

test('subsampled forward+backward with grad enabled and no optimiser step: live tensors stay flat', () => {
  scope(() => {
    const { loss, x, y } = subsampledLoss();
    const call = () => scope(() => loss.forward(x, y).backward());
    call();
    const live = memory().liveTensors;
    for (let i = 0; i < 50; i++) call();
    assert.equal(memory().liveTensors, live);
    assert.equal(hasRowGrad(loss.weight), true, 'the gradients are kept for a step, folded into one');
    clearRowGrads(loss.weight);
  });
});

test('subsampled forward only with grad enabled (a validation loss): live tensors stay flat, nothing pending', () => {
  scope(() => {
    const { loss, x, y } = subsampledLoss();
    const live = memory().liveTensors;
    for (let i = 0; i < 50; i++) scope(() => loss.forward(x, y).item());
    assert.equal(memory().liveTensors, live);
    assert.equal(hasRowGrad(loss.weight), false);
  });
});

test('a row gradient from a backward in an earlier scope is applied by a later step (as a dense .grad)', () => {
  scope(() => {
    const w = weights([0, 1, 2, 3, 4]).requiresGrad_(true);
    const dense = weights([0, 1, 2, 3, 4]).requiresGrad_(true);
    scope(() => rowLoss(gatherRows(w, ROWS), 1).backward());
    scope(() => rowLoss(gatherRows(w, ROWS), 2).backward());
    rowLoss(dense.indexSelect(0, tensor(ROWS, { dtype: 'int64' })), 1).backward();
    rowLoss(dense.indexSelect(0, tensor(ROWS, { dtype: 'int64' })), 2).backward();
    assert.equal(gatheredLeafCount(w), 0, 'the leaves are folded into one row gradient when their scope ends');
    const live = memory().liveTensors;
    new SGD([w], { lr: 0.5, momentum: 0 }).step();
    assert.equal(memory().liveTensors, live - 2, 'step frees the folded rows and values');
    assert.equal(hasRowGrad(w), false);
    new SGD([dense], { lr: 0.5, momentum: 0 }).step();
    assert.equal(maxAbsDiff(w.detach(), dense.detach()), 0);
  });
});

test('a loss returned from its scope keeps its gathered rows until backward and step', () => {
  scope(() => {
    const { loss, x, y } = subsampledLoss();
    const before = loss.weight.detach().clone();
    const opt = new SGD(loss.parameters(), { lr: 1, momentum: 0 });
    const l = scope(() => scope(() => loss.forward(x, y)));
    l.backward();
    opt.step();
    const classes = loss.lastClasses as readonly number[];
    const changed = noGrad(() => loss.weight.sub(before).abs().sum(1)).toArray();
    for (const c of [0, 9]) assert.ok(classes.includes(c) && (changed[c] as number) > 0, `row ${c} updated`);
    changed.forEach((v, r) => {
      if (!classes.includes(r)) assert.equal(v, 0, `row ${r} untouched`);
    });
  });
});

test('outside every scope, repeated forward+backward folds earlier gradients: one leaf pending at a time', () => {
  const { loss, x, y } = subsampledLoss();
  const opt = new SGD(loss.parameters(), { lr: 0.1, momentum: 0 });
  for (let i = 0; i < 5; i++) {
    loss.forward(x, y).backward();
    assert.equal(gatheredLeafCount(loss.weight), 1);
  }
  assert.equal(hasRowGrad(loss.weight), true);
  opt.step();
  assert.equal(gatheredLeafCount(loss.weight), 0);
  assert.equal(hasRowGrad(loss.weight), false);
  for (const t of [loss.weight, x, y]) t.dispose();
});
