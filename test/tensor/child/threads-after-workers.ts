// Sets the intra-op thread count on the main thread, runs a batch through image decode workers (each
// loads the addon), then prints the count the main thread and a thread started afterwards see.
// Run by test/tensor/threads.test.ts.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BatchLoader } from '../../../src/data/loader/batch-loader.js';
import { getNumThreads, setNumThreads } from '../../../src/tensor/index.js';
import { GOLDEN_DIR } from '../../helpers/golden.js';

// Not the core count, which is what a thread loading the addon used to set.
const N = availableParallelism() === 1 ? 2 : 1;
setNumThreads(N);

const dir = join(GOLDEN_DIR, 'pipeline');
const loader = new BatchLoader({
  dataset: {},
  samples: [
    { path: join(dir, 'photo.jpg'), label: 0 },
    { path: join(dir, 'small.png'), label: 1 },
  ],
  transform: {
    resize: { width: 20, height: 20 },
    crop: { width: 16, height: 16 },
    flipProbability: 0,
    colorOrder: 'RGB',
    range: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  },
  mode: 'eval',
  workers: 2,
});
let images = 0;
try {
  for await (const b of loader.batches([[0, 1]])) {
    images += b.images.shape[0] as number;
    b.dispose();
  }
} finally {
  await loader.close();
}

// A thread started now: libtorch gives it the process's count when it first asks.
const probe = await new Promise<number>((resolve, reject) => {
  const code = `
    const { parentPort } = require('node:worker_threads');
    import('tsx/esm/api')
      .then((m) => { m.register(); return import(${JSON.stringify(join(import.meta.dirname, '../../../src/tensor/runtime.ts'))}); })
      .then((t) => parentPort.postMessage(t.getNumThreads()));`;
  const w = new Worker(code, { eval: true });
  w.once('message', (n: number) => {
    resolve(n);
    void w.terminate();
  });
  w.once('error', reject);
});

process.stdout.write(JSON.stringify({ requested: N, images, main: getNumThreads(), laterThread: probe }));
