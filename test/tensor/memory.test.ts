// Memory you can trust: scopes, dispose(), keep(), the GC backstop and a 5,000-step training loop.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { keep, type MemoryInfo, memory, ones, scope, Tensor, tensor, zeros } from '../../src/tensor/index.js';
import { runChild } from './run-child.js';

const live = () => memory().liveTensors;

describe('dispose()', () => {
  test('frees the handle and its bytes, and is safe to call twice', () => {
    const base = memory();
    const t = zeros([1000]);
    assert.deepEqual(memory(), { liveTensors: base.liveTensors + 1, bytes: base.bytes + 4000 });
    t.dispose();
    assert.equal(t.isDisposed, true);
    t.dispose();
    assert.deepEqual(memory(), base);
  });
  test("using a disposed tensor throws 'tensor used after dispose()'", () => {
    const t = ones([2]);
    const handle = t.handle;
    t.dispose();
    assert.throws(() => t.add(1), /tensor used after dispose\(\)/);
    assert.throws(() => t.shape, /tensor used after dispose\(\)/);
    // A second wrapper of the same native handle: the addon itself refuses the freed tensor.
    scope(() => {
      const stale = new Tensor(handle);
      assert.throws(() => ones([2]).add(stale), /tensor used after dispose\(\)/);
    });
  });
  test('a view outlives the disposed tensor it was taken from', () => {
    scope(() => {
      const base = tensor([1, 2, 3, 4]);
      const view = base.narrow(0, 1, 2);
      base.dispose();
      assert.deepEqual(view.toArray(), [2, 3]);
    });
  });
});

describe('scope()', () => {
  test('frees every tensor created inside, and returns values', () => {
    const before = live();
    const sum = scope(() => {
      const a = ones([3, 3]);
      return a.add(a).sum().item();
    });
    assert.equal(sum, 18);
    assert.equal(live(), before);
  });
  test('returned tensors, arrays and objects of tensors survive and move to the parent scope', () => {
    const before = live();
    let kept: { a: Tensor; list: Tensor[]; nested: { b: Tensor } } | undefined;
    scope(() => {
      kept = scope(() => {
        const tmp = ones([2]);
        return { a: tmp.mul(2), list: [tmp.mul(3), tmp.mul(4)], nested: { b: tmp.mul(5) } };
      });
      assert.equal(live(), before + 4, 'only the four returned tensors live after the inner scope');
      assert.deepEqual(kept.a.toArray(), [2, 2]);
      assert.deepEqual(kept.nested.b.toArray(), [5, 5]);
      assert.equal(kept.list[1]?.isDisposed, false);
    });
    assert.ok(kept);
    for (const t of [kept.a, ...kept.list, kept.nested.b]) assert.equal(t.isDisposed, true, 'freed by the parent');
    assert.equal(live(), before);
  });
  test('a tensor returned from the outermost scope is left to the caller', () => {
    const t = scope(() => ones([2]).mul(7));
    assert.equal(t.isDisposed, false);
    assert.deepEqual(t.toArray(), [7, 7]);
    t.dispose();
  });
  test('keep() excludes tensors from every enclosing scope', () => {
    const before = live();
    let kept: Tensor | undefined;
    scope(() => {
      scope(() => {
        kept = keep(ones([2]));
      });
    });
    assert.ok(kept);
    assert.equal(kept.isDisposed, false);
    assert.equal(live(), before + 1);
    kept.dispose();
    assert.equal(live(), before);
  });
  test('an exception inside a scope still frees its tensors and propagates', () => {
    const before = live();
    let inside: Tensor | undefined;
    assert.throws(
      () =>
        scope(() => {
          inside = zeros([10]);
          zeros([2, 3]).matmul(zeros([2, 3]));
        }),
      /mat1 and mat2 shapes cannot be multiplied/,
    );
    assert.equal(inside?.isDisposed, true);
    assert.equal(live(), before);
  });
  test('rejects async functions and frees what they created', () => {
    const before = live();
    assert.throws(() => scope(async () => zeros([1])), /synchronous function/);
    assert.equal(live(), before);
  });
  test('a loop with one scope per step keeps the live count flat', () => {
    const w = ones([4, 4]).requiresGrad_(true);
    const before = live();
    for (let i = 0; i < 200; i++) {
      scope(() => {
        w.matmul(w).relu().sum().backward();
        w.zeroGrad();
      });
    }
    assert.equal(live(), before);
    w.dispose();
  });
});

describe('across processes (--expose-gc)', () => {
  test('the GC finalizer frees tensors nobody disposed', () => {
    const r = runChild<{ before: MemoryInfo; created: MemoryInfo; collected: MemoryInfo; count: number }>(
      'gc-finalizer.ts',
      [],
      ['--expose-gc'],
    );
    assert.equal(r.created.liveTensors, r.before.liveTensors + r.count);
    assert.equal(r.created.bytes, r.before.bytes + r.count * 1000);
    assert.deepEqual(r.collected, r.before);
  });

  test('5,000 SGD steps of an MLP: live tensors constant, RSS grows < 50 MB', () => {
    type Snapshot = MemoryInfo & { rss: number };
    const r = runChild<{
      yielding0: Snapshot;
      yielding1: Snapshot;
      sync1: Snapshot;
      firstLoss: number;
      lastLoss: number;
    }>('train-loop.ts', ['5000'], ['--expose-gc']);
    for (const s of [r.yielding1, r.sync1]) {
      assert.equal(s.liveTensors, r.yielding0.liveTensors, 'live tensors after the loop');
      assert.equal(s.bytes, r.yielding0.bytes, 'native bytes after the loop');
    }
    const grownMB = (r.sync1.rss - r.yielding0.rss) / 2 ** 20;
    assert.ok(grownMB < 50, `RSS grew ${grownMB.toFixed(1)} MB over 2 x 5,000 steps`);
    assert.ok(r.lastLoss < r.firstLoss / 10, `SGD did not train: loss ${r.firstLoss} -> ${r.lastLoss}`);
  });
});
