// How the CLI reports an error: one line "normsoftmax: ..." and the exit code of its class
// (src/util/errors.ts); anything else is an internal error (exit 1); NORMSOFTMAX_DEBUG=1 adds the stack.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { reportError } from '../../src/cli/report-error.js';
import { FailureError, FormatError, InputError, UsageError } from '../../src/util/errors.js';

let lines: string[] = [];
const original = console.error;
const debug = process.env.NORMSOFTMAX_DEBUG;
beforeEach(() => {
  lines = [];
  console.error = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  delete process.env.NORMSOFTMAX_DEBUG;
});
afterEach(() => {
  console.error = original;
  if (debug === undefined) delete process.env.NORMSOFTMAX_DEBUG;
  else process.env.NORMSOFTMAX_DEBUG = debug;
});

test('each error class gives its exit code and one line naming what is wrong', () => {
  const cases: [Error, number, string][] = [
    [new UsageError('--lr: expected a number, got "fast"'), 2, 'normsoftmax: --lr: expected a number, got "fast"'],
    [new InputError('--config run.json: file not found'), 3, 'normsoftmax: --config run.json: file not found'],
    [new FormatError('x.npy', 'not a .npy file'), 3, 'normsoftmax: x.npy: not a .npy file'],
    [new FailureError('training diverged (try a lower --lr)'), 1, 'normsoftmax: training diverged (try a lower --lr)'],
  ];
  for (const [error, code, line] of cases) {
    lines = [];
    assert.equal(reportError(error), code, error.name);
    assert.deepEqual(lines, [line], error.name);
  }
});

test('only the first line of a multi-line message is printed', () => {
  assert.equal(reportError(new InputError('data.csv: 3 problems\nline 4: ...\nline 9: ...')), 3);
  assert.deepEqual(lines, ['normsoftmax: data.csv: 3 problems']);
});

test('anything else is an internal error, exit 1, with a hint to the stack', () => {
  assert.equal(reportError(new RangeError('index 7 outside [0, 5)')), 1);
  assert.deepEqual(lines, [
    'normsoftmax: internal error: index 7 outside [0, 5) (NORMSOFTMAX_DEBUG=1 shows the stack)',
  ]);
  lines = [];
  assert.equal(reportError('a thrown string'), 1);
  assert.deepEqual(lines, ['normsoftmax: internal error: a thrown string (NORMSOFTMAX_DEBUG=1 shows the stack)']);
});

test('NORMSOFTMAX_DEBUG=1 prints the stack first, then the same line', () => {
  process.env.NORMSOFTMAX_DEBUG = '1';
  const usage = new UsageError('--k: bad');
  assert.equal(reportError(usage), 2);
  assert.deepEqual(lines, [usage.stack, 'normsoftmax: --k: bad']);
  lines = [];
  const bug = new TypeError('x is undefined');
  assert.equal(reportError(bug), 1);
  assert.equal(lines.length, 2);
  assert.match(lines[0] as string, /^TypeError: x is undefined\n\s+at /);
  assert.equal(lines[1], 'normsoftmax: internal error: x is undefined');
});

test("a full disk is one line and exit 1, not an internal error: Node's ENOSPC, a library's message", () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  assert.equal(reportError(enospc), 1);
  assert.equal(reportError(new Error('lance error: IO error: No space left on device (os error 28)\nat ...')), 1);
  assert.deepEqual(lines, [
    'normsoftmax: no space left on device (ENOSPC: no space left on device, write); free some space and run the command again',
    'normsoftmax: no space left on device (lance error: IO error: No space left on device (os error 28)); free some space and run the command again',
  ]);
});
