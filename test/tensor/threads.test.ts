// The intra-op thread count is the process's: a worker thread that loads the addon (each image decode
// worker does) must not change it (issue 8 point 11: it used to set it to the core count).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChild } from './run-child.js';

test('decode workers leave the thread count the main thread set', () => {
  const r = runChild<{ requested: number; images: number; main: number; laterThread: number }>(
    'threads-after-workers.ts',
    [],
    [],
    { NORMSOFTMAX_THREADS: undefined, OMP_NUM_THREADS: undefined },
  );
  assert.equal(r.images, 2, 'the batch went through the workers');
  assert.equal(r.main, r.requested);
  assert.equal(r.laterThread, r.requested);
});
