// Child process of handles.test.ts (needs --expose-gc): the GC frees tensors no scope owns (created
// outside scopes, kept, or returned from the outermost scope), and the late finalizer of a tensor
// that was already disposed does not free the tensor that reuses its slot. Prints JSON.
import { keep, memory, scope, tensor, zeros } from '../../../src/tensor/index.js';

const maybeGc = (globalThis as { gc?: () => void }).gc;
if (!maybeGc) throw new Error('run with --expose-gc');
const gc = maybeGc;
const COUNT = 500;

async function collect(until: () => boolean): Promise<void> {
  for (let i = 0; i < 10 && !until(); i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const before = memory().liveTensors;

// Created outside every scope, kept inside one, or returned from the outermost one; then dropped.
(() => {
  for (let i = 0; i < COUNT; i++) {
    zeros([10]);
    scope(() => {
      keep(zeros([10]));
      zeros([10]); // freed by the scope
    });
    scope(() => zeros([10]));
  }
})();
const escaped = memory().liveTensors - before;
await collect(() => memory().liveTensors === before);
const afterEscapedCollected = memory().liveTensors - before;

// Disposed tensors whose finalizers run after their slots hold new tensors.
(() => {
  for (let i = 0; i < COUNT; i++) zeros([10]).dispose();
})();
const survivors = Array.from({ length: COUNT }, (_, i) => tensor([i, i + 0.5]));
await collect(() => false);
const survivorsLive = memory().liveTensors - before;
const survivorSum = survivors.reduce((s, t) => s + t.toArray().reduce((a, b) => a + b, 0), 0);
process.stdout.write(JSON.stringify({ count: COUNT, escaped, afterEscapedCollected, survivorsLive, survivorSum }));
