// A weights file that does not match the model is bad input (exit 3, one line), not an internal error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StateDictError } from '../../src/nn/state-dict-error.js';
import { EXIT_INPUT, InputError } from '../../src/util/errors.js';

test('StateDictError is an InputError with exit code 3, its lists kept and a one-line message', () => {
  const e = new StateDictError({ missing: ['fc.weight'], unexpected: ['head.bias'], mismatched: [] });
  assert.ok(e instanceof InputError);
  assert.equal(e.exitCode, EXIT_INPUT);
  assert.equal(e.name, 'StateDictError');
  assert.deepEqual(e.missing, ['fc.weight']);
  assert.deepEqual(e.unexpected, ['head.bias']);
  assert.equal(e.message.includes('\n'), false);
  assert.match(e.message, /fc\.weight/);
});
