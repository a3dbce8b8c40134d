import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFolds, classFolds, foldSplit } from '../../src/data/class-folds.js';
import { DEFAULTS, resolveConfig } from '../../src/train/config.js';
import { UsageError } from '../../src/util/errors.js';

test('folds are contiguous blocks of the sorted class ids, the first C mod N one class larger (numpy array_split)', () => {
  // np.array_split(np.arange(10), 4) -> [0 1 2] [3 4 5] [6 7] [8 9]
  assert.deepEqual(classFolds([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], 4), [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7],
    [8, 9],
  ]);
  // Repeated labels count once; gaps in the ids do not matter, only their order.
  assert.deepEqual(classFolds([7, 3, 3, 12, 5, 0, 7], 2), [
    [0, 3, 5],
    [7, 12],
  ]);
  assert.deepEqual(classFolds([4, 1, 2, 3], 4), [[1], [2], [3], [4]]);
});

test('foldSplit holds out one fold with its labels and renumbers the trained classes 0..C-1', () => {
  const samples = [
    { path: 'a', label: 0 },
    { path: 'b', label: 4 },
    { path: 'c', label: 2 },
    { path: 'd', label: 1 },
    { path: 'e', label: 3 },
    { path: 'f', label: 4 },
  ];
  // Classes 0..4 in 2 folds: [0 1 2] [3 4].
  const f1 = foldSplit(samples, 2, 1);
  assert.deepEqual(f1.validationClasses, [3, 4]);
  assert.deepEqual(f1.trainClasses, [0, 1, 2]);
  assert.deepEqual(
    f1.validation.map((s) => [s.path, s.label]),
    [
      ['b', 4],
      ['e', 3],
      ['f', 4],
    ],
  );
  assert.deepEqual(
    f1.train.map((s) => [s.path, s.label]),
    [
      ['a', 0],
      ['c', 2],
      ['d', 1],
    ],
  );
  const f0 = foldSplit(samples, 2, 0);
  assert.deepEqual(
    f0.train.map((s) => [s.path, s.label]),
    [
      ['b', 1],
      ['e', 0],
      ['f', 1],
    ],
    'classes 3 and 4 become 0 and 1',
  );
  assert.deepEqual(
    f0.validation.map((s) => s.path),
    ['a', 'c', 'd'],
  );
  assert.equal(samples[1]?.label, 4, 'the input samples are not modified');
});

test('bad fold settings are usage errors naming the flag', () => {
  const usage = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e) => e instanceof UsageError && re.test(e.message));
  usage(() => checkFolds(1, 0), /--folds: expected an integer of at least 2/);
  usage(() => checkFolds(4, 4), /--fold: expected an integer in 0\.\.3 for --folds 4, got 4/);
  usage(() => checkFolds(3, -1), /--fold: expected an integer in 0\.\.2/);
  usage(() => classFolds([0, 1, 2, 3, 4], 6), /--folds 6: the training split has only 5 classes/);
  usage(() => foldSplit([{ path: 'a', label: 0 }], 2, 0), /only 1 classes/);
});

test('train config: --folds and --fold are validated and default to no folds', () => {
  const base = { dataset: 'fashion-mnist', root: '' };
  assert.equal(DEFAULTS.folds, 0);
  const c = resolveConfig({ flags: { ...base, folds: 4, fold: 3 } });
  assert.equal(c.folds, 4);
  assert.equal(c.fold, 3);
  const usage = (flags: object, re: RegExp) =>
    assert.throws(
      () => resolveConfig({ flags: { ...base, ...flags } }),
      (e) => e instanceof UsageError && re.test(e.message),
    );
  usage({ folds: 4, fold: 4 }, /--fold: expected an integer in 0\.\.3/);
  usage({ folds: 1 }, /--folds: expected an integer of at least 2/);
  usage({ fold: 2 }, /--fold 2 needs --folds N/);
  usage({ folds: 2.5 }, /--folds: expected a non-negative integer/);
});
