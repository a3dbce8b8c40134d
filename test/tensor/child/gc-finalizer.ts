// Child process of memory.test.ts (needs --expose-gc): tensors that are neither disposed nor in a
// scope are freed by the garbage collector's finalizer. Prints live tensor counts and bytes.
import { memory, zeros } from '../../../src/tensor/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const COUNT = 2000;

const before = memory();
(() => {
  for (let i = 0; i < COUNT; i++) zeros([250]); // 1000 bytes each, dropped at once
})();
const created = memory();
// Finalizers run after the collection, once the event loop turns.
for (let i = 0; i < 20 && memory().liveTensors > before.liveTensors; i++) {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const collected = memory();
process.stdout.write(JSON.stringify({ before, created, collected, count: COUNT }));
