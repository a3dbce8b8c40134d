// Child process of memory.test.ts (needs --expose-gc): trains a small MLP with plain SGD, every step
// inside scope(), and prints live tensors, native bytes and RSS around two runs of ITERATIONS steps:
// first yielding to the event loop every 50 steps (as a training loop that awaits its data does),
// then fully synchronous (Node-API runs native finalizers only when the event loop turns, so this is
// the harsher case for RSS).
import { F, Generator, memory, noGrad, randn, scope, type Tensor } from '../../../src/tensor/index.js';

const ITERATIONS = Number(process.argv[2] ?? 5000);
const WARMUP = 300;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const { x, labels, params } = scope(() => {
  const gen = new Generator(1);
  const x = randn([32, 8], { generator: gen });
  const labels = x.matmul(randn([8, 4], { generator: gen })).argmax(1);
  const params: Tensor[] = [
    randn([32, 8], { generator: gen }).mul(0.3),
    randn([32], { generator: gen }).mul(0.1),
    randn([4, 32], { generator: gen }).mul(0.3),
    randn([4], { generator: gen }).mul(0.1),
  ];
  return { x, labels, params };
});
for (const p of params) p.requiresGrad_(true);

function step(): number {
  return scope(() => {
    const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
    const hidden = F.relu(F.linear(x, w1, b1));
    const loss = F.crossEntropy(F.linear(hidden, w2, b2), labels);
    loss.backward();
    noGrad(() => {
      for (const p of params) {
        p.sub_(p.grad!, 0.1);
        p.zeroGrad();
      }
    });
    return loss.item();
  });
}

const turnEventLoop = () => new Promise((resolve) => setImmediate(resolve));

async function snapshot() {
  for (let i = 0; i < 3; i++) {
    gc!();
    await turnEventLoop();
  }
  const m = memory();
  return { liveTensors: m.liveTensors, bytes: m.bytes, rss: process.memoryUsage().rss };
}

const firstLoss = step();
for (let i = 1; i < WARMUP; i++) step();

const yielding0 = await snapshot();
for (let i = 0; i < ITERATIONS; i++) {
  step();
  if (i % 50 === 0) await turnEventLoop();
}
const yielding1 = await snapshot();

let lastLoss = Number.NaN;
for (let i = 0; i < ITERATIONS; i++) lastLoss = step();
gc();
gc();
const sync1 = { ...memory(), rss: process.memoryUsage().rss };

process.stdout.write(JSON.stringify({ yielding0, yielding1, sync0: yielding1, sync1, firstLoss, lastLoss }));
