// Child process of handles.test.ts (no --expose-gc): unscoped 2 MiB tensors dropped without
// dispose(), with the event loop turning between them. V8 learns their bytes only through our
// reports, so only with those reports does it collect them on its own. Prints the peak live count.
import { memory, zeros } from '../../../src/tensor/index.js';

const COUNT = 200;
const before = memory().liveTensors;
let peak = 0;
for (let i = 0; i < COUNT; i++) {
  zeros([512 * 1024]); // 2 MiB, dropped at once
  await new Promise((resolve) => setImmediate(resolve));
  peak = Math.max(peak, memory().liveTensors - before);
}
process.stdout.write(JSON.stringify({ count: COUNT, peak }));
