import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import { F, Generator, memory, noGrad, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { takeRowGrad } from '../../src/tensor/row-sparse.js';
import { SGD } from '../../src/train/optim/sgd.js';
import { Rng } from '../../src/util/rng.js';
import { loadGoldenJson, maxAbsDiff } from '../helpers/golden.js';

const golden = loadGoldenJson('loss-normsoftmax.json');
const g = (k: string): Tensor => golden.tensors[k] as Tensor;
const T = golden.extra['temperature'] as number;

function lossWithGoldenWeights(classFraction = 1): NormSoftmaxLoss {
  const loss = new NormSoftmaxLoss({ numClasses: 10, dim: 16, temperature: T, classFraction });
  noGrad(() => loss.weight.copy_(g('w')));
  return loss;
}

test('full NormSoftmax loss and gradients (embeddings and W) equal PyTorch', () => {
  scope(() => {
    const loss = lossWithGoldenWeights();
    const x = g('x').clone().requiresGrad_(true);
    const value = loss.forward(x, g('y'));
    assert.ok(Math.abs(value.item() - g('loss').item()) < 1e-4, `loss ${value.item()} vs ${g('loss').item()}`);
    value.backward();
    assert.ok(maxAbsDiff(x.grad as Tensor, g('grad_x')) < 1e-4);
    assert.ok(maxAbsDiff(loss.weight.grad as Tensor, g('grad_w')) < 1e-4);
    assert.equal(loss.lastClasses, null);
  });
});

test('loss on a class subset, its row gradients and one SGD step equal PyTorch on W[S]', () => {
  scope(() => {
    const loss = lossWithGoldenWeights();
    const before = loss.weight.detach().clone();
    const subset = g('subset').toArray();
    const x = g('x').clone().requiresGrad_(true);
    const value = loss.forwardOnClasses(x, g('y'), subset);
    assert.ok(Math.abs(value.item() - g('loss_subset').item()) < 1e-4);
    value.backward();
    assert.ok(maxAbsDiff(x.grad as Tensor, g('grad_x_subset')) < 1e-4);
    assert.equal(loss.weight.grad, null, 'no dense gradient of W');
    const rowGrad = takeRowGrad(loss.weight);
    assert.ok(rowGrad);
    assert.deepEqual(rowGrad.rows.toArray(), subset);
    assert.ok(maxAbsDiff(rowGrad.values, g('grad_w_subset')) < 1e-4);

    const sgd = golden.extra['sgd'] as { lr: number; momentum: number; weight_decay: number };
    const opt = new SGD(loss.parameters(), { lr: sgd.lr, momentum: sgd.momentum, weightDecay: sgd.weight_decay });
    opt.step();
    const sIdx = g('subset');
    assert.ok(maxAbsDiff(loss.weight.detach().indexSelect(0, sIdx), g('w_subset_after_sgd')) < 1e-5);
    for (let c = 0; c < 10; c++) {
      if (subset.includes(c)) continue;
      assert.equal(maxAbsDiff(loss.weight.detach().select(0, c), before.select(0, c)), 0, `row ${c} must not change`);
    }
    assert.equal(loss.weight.grad, null);
  });
});

/** The subsampled loss computed independently: the full logits, restricted to columns S. */
function restrictedFullLoss(x: Tensor, w: Tensor, labels: number[], classes: number[]): Tensor {
  const logits = x.mm(F.normalize(w).T).div(T);
  const cols = logits.indexSelect(1, tensor(classes, { dtype: 'int64' }));
  const targets = tensor(
    labels.map((y) => classes.indexOf(y)),
    { dtype: 'int64' },
  );
  return F.logSoftmax(cols, 1).gather(1, targets.unsqueeze(1)).mean().neg();
}

test('subsampled forward: S holds the batch classes plus uniform negatives, ceil(f*C) in all', () => {
  scope(() => {
    const C = 50;
    const labels = [3, 3, 17, 17, 42, 42, 8, 8];
    const y = tensor(labels, { dtype: 'int64' });
    const x = F.normalize(
      tensor(
        Array.from({ length: 8 * 4 }, (_, i) => Math.sin(i * 1.7)),
        { shape: [8, 4] },
      ),
    );
    const make = (seed: number) =>
      new NormSoftmaxLoss({
        numClasses: C,
        dim: 4,
        classFraction: 0.3,
        rng: new Rng(seed),
        generator: new Generator(5),
      });
    const a = make(1);
    assert.equal(a.subsetSize, 15);
    a.forward(x, y);
    const s = a.lastClasses as number[];
    assert.equal(s.length, 15);
    assert.deepEqual(
      s,
      [...new Set(s)].sort((p, q) => p - q),
    );
    for (const c of [3, 8, 17, 42]) assert.ok(s.includes(c));
    // Same seed, same subsets; another seed, another subset.
    const b = make(1);
    b.forward(x, y);
    assert.deepEqual(b.lastClasses, s);
    const other = make(2);
    other.forward(x, y);
    assert.notDeepEqual(other.lastClasses, s);
    // The next step draws a new subset.
    a.forward(x, y);
    assert.notDeepEqual(a.lastClasses, s);
  });
});

test('subsampled loss and gradients equal the full loss restricted to S, computed independently', () => {
  scope(() => {
    const C = 30;
    const labels = [0, 5, 5, 9, 21, 21];
    const loss = new NormSoftmaxLoss({
      numClasses: C,
      dim: 8,
      classFraction: 0.4,
      rng: new Rng(7),
      generator: new Generator(3),
    });
    const x0 = F.normalize(
      tensor(
        Array.from({ length: 48 }, (_, i) => Math.cos(i * 0.37 + 1)),
        { shape: [6, 8] },
      ),
    );
    const x = x0.clone().requiresGrad_(true);
    const value = loss.forward(x, tensor(labels, { dtype: 'int64' }));
    const classes = [...(loss.lastClasses as number[])];
    assert.equal(classes.length, 12);
    value.backward();

    const xRef = x0.clone().requiresGrad_(true);
    const wRef = loss.weight.detach().clone().requiresGrad_(true);
    const ref = restrictedFullLoss(xRef, wRef, labels, classes);
    ref.backward();
    assert.ok(Math.abs(value.item() - ref.item()) < 1e-5, `${value.item()} vs ${ref.item()}`);
    assert.ok(maxAbsDiff(x.grad as Tensor, xRef.grad as Tensor) < 1e-5);
    const rowGrad = takeRowGrad(loss.weight);
    assert.ok(rowGrad);
    assert.deepEqual(rowGrad.rows.toArray(), classes);
    const refRows = (wRef.grad as Tensor).indexSelect(0, tensor(classes, { dtype: 'int64' }));
    assert.ok(maxAbsDiff(rowGrad.values, refRows) < 1e-5);
    // Rows outside S get no gradient at all in the reference either.
    const outside = Array.from({ length: C }, (_, c) => c).filter((c) => !classes.includes(c));
    const refOutside = (wRef.grad as Tensor).indexSelect(0, tensor(outside, { dtype: 'int64' }));
    assert.equal(refOutside.abs().max().item(), 0);
  });
});

test('a subsampled SGD step leaves W rows outside S and their momentum untouched', () => {
  scope(() => {
    const C = 40;
    const loss = new NormSoftmaxLoss({
      numClasses: C,
      dim: 6,
      classFraction: 0.25,
      rng: new Rng(11),
      generator: new Generator(1),
    });
    const opt = new SGD(loss.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
    const before = loss.weight.detach().clone();
    const x = F.normalize(
      tensor(
        Array.from({ length: 24 }, (_, i) => Math.sin(i)),
        { shape: [4, 6] },
      ),
    );
    loss.forward(x, tensor([1, 1, 30, 30], { dtype: 'int64' })).backward();
    const s = loss.lastClasses as number[];
    assert.equal(loss.weight.grad, null);
    opt.step();
    opt.zeroGrad();
    const buf = opt.stateDict().tensors['state.0.momentum_buffer'] as Tensor;
    for (let c = 0; c < C; c++) {
      const changed = maxAbsDiff(loss.weight.detach().select(0, c), before.select(0, c)) > 0;
      const moved = buf.select(0, c).abs().max().item() > 0;
      assert.equal(changed, s.includes(c), `row ${c}`);
      assert.equal(moved, s.includes(c), `momentum row ${c}`);
    }
  });
});

test('when the batch has more classes than ceil(f*C), S is exactly the batch classes', () => {
  scope(() => {
    const loss = new NormSoftmaxLoss({ numClasses: 100, dim: 3, classFraction: 0.02, generator: new Generator(0) });
    const x = F.normalize(tensor([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1], { shape: [4, 3] }));
    loss.forward(x, tensor([70, 2, 55, 2], { dtype: 'int64' }));
    assert.deepEqual(loss.lastClasses, [2, 55, 70]);
  });
});

test('W is initialised U(+-1/sqrt(d)) from the given generator', () => {
  scope(() => {
    const a = new NormSoftmaxLoss({ numClasses: 200, dim: 64, generator: new Generator(9) });
    const b = new NormSoftmaxLoss({ numClasses: 200, dim: 64, generator: new Generator(9) });
    assert.equal(maxAbsDiff(a.weight.detach(), b.weight.detach()), 0);
    const bound = 1 / 8;
    assert.ok(a.weight.abs().max().item() <= bound);
    assert.ok(a.weight.abs().max().item() > 0.95 * bound);
    assert.ok(Math.abs(a.weight.mean().item()) < 0.01);
    assert.equal(a.weight.requiresGrad, true);
  });
});

test('bad inputs are rejected with messages naming the problem', () => {
  scope(() => {
    const loss = new NormSoftmaxLoss({ numClasses: 5, dim: 4 });
    const x = F.normalize(tensor([1, 2, 3, 4, 5, 6, 7, 8], { shape: [2, 4] }));
    assert.throws(() => loss.forward(x, tensor([0, 5], { dtype: 'int64' })), /label 5 is outside \[0, 5\)/);
    assert.throws(() => loss.forward(x, tensor([0], { dtype: 'int64' })), /labels must be \[2\]/);
    assert.throws(
      () => loss.forward(x.T, tensor([0, 1, 2, 3], { dtype: 'int64' })),
      /dimension 2, the loss was built for 4/,
    );
    assert.throws(() => loss.forwardOnClasses(x, tensor([0, 1], { dtype: 'int64' }), [0, 2]), /label 1 is not among/);
    assert.throws(
      () => new NormSoftmaxLoss({ numClasses: 5, dim: 4, classFraction: 0 }),
      /classFraction must be in \(0, 1\]/,
    );
    assert.throws(() => new NormSoftmaxLoss({ numClasses: 5, dim: 4, temperature: 0 }), /temperature must be > 0/);
  });
});

test('training steps in scope() keep the number of live tensors flat (full and subsampled)', () => {
  for (const classFraction of [1, 0.3]) {
    scope(() => {
      const loss = new NormSoftmaxLoss({ numClasses: 20, dim: 4, classFraction, generator: new Generator(2) });
      const opt = new SGD(loss.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
      const x = F.normalize(
        tensor(
          Array.from({ length: 16 }, (_, i) => Math.sin(i + 1)),
          { shape: [4, 4] },
        ),
      );
      const y = tensor([0, 0, 7, 7], { dtype: 'int64' });
      const step = () =>
        scope(() => {
          loss.forward(x, y).backward();
          opt.step();
          opt.zeroGrad();
        });
      step();
      const live = memory().liveTensors;
      for (let i = 0; i < 10; i++) step();
      assert.equal(memory().liveTensors, live, `f = ${classFraction}`);
      opt.dispose();
    });
  }
});
