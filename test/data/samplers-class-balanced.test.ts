import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClassBalancedSampler } from '../../src/data/samplers/class-balanced.js';
import type { SamplerState } from '../../src/data/samplers/types.js';

// Classes 0..7 with 30 images, class 8 with 3 (fewer than imagesPerClass), class 9 with 10; shuffled order.
const labels: number[] = [];
for (let c = 0; c < 10; c++) for (let i = 0; i < (c === 8 ? 3 : c === 9 ? 10 : 30); i++) labels.push(c);
for (let i = labels.length - 1; i > 0; i--) {
  const j = (i * 7919) % (i + 1);
  [labels[i], labels[j]] = [labels[j] as number, labels[i] as number];
}
const make = (seed = 0) =>
  new ClassBalancedSampler({ labels: Int32Array.from(labels), batchSize: 20, imagesPerClass: 5, seed });

test('class-balanced batches: 4 distinct classes, 5 images each, no image repeated when the class has enough', () => {
  const s = make(1);
  assert.equal(s.batchesPerEpoch, Math.floor(labels.length / 20));
  assert.equal(s.classesPerBatch, 4);
  for (let b = 0; b < 200; b++) {
    const batch = s.nextBatch();
    assert.equal(batch.length, 20);
    const groups = new Map<number, number[]>();
    for (const i of batch) {
      assert.ok(Number.isInteger(i) && i >= 0 && i < labels.length);
      const y = labels[i] as number;
      groups.set(y, [...(groups.get(y) ?? []), i]);
    }
    assert.equal(groups.size, 4, 'no class twice in a batch');
    for (const [c, idx] of groups) {
      assert.equal(idx.length, 5);
      if (c !== 8) assert.equal(new Set(idx).size, 5, `class ${c} images drawn without replacement`);
    }
    // Images of one class are contiguous in the batch.
    for (let k = 0; k < 4; k++) assert.equal(new Set(batch.slice(5 * k, 5 * k + 5).map((i) => labels[i])).size, 1);
  }
});

test('class-balanced: classes are drawn uniformly, the small class with replacement', () => {
  const s = make(2);
  const picks = new Array(10).fill(0);
  const draws = 3000;
  let smallClassRepeats = 0;
  for (let b = 0; b < draws; b++) {
    const batch = s.nextBatch();
    const classes = new Set(batch.map((i) => labels[i] as number));
    for (const c of classes) picks[c]++;
    const small = batch.filter((i) => labels[i] === 8);
    if (small.length > 0 && new Set(small).size < small.length) smallClassRepeats++;
  }
  for (let c = 0; c < 10; c++) {
    const freq = picks[c] / draws;
    assert.ok(Math.abs(freq - 0.4) < 0.04, `class ${c} in ${freq} of the batches, expected 0.4`);
  }
  // 5 draws from 3 images always repeat one.
  assert.equal(smallClassRepeats, picks[8]);
});

test('class-balanced: same seed, same batches; another seed, other batches', () => {
  const a = make(5);
  const b = make(5);
  const c = make(6);
  const seqA = Array.from({ length: 30 }, () => a.nextBatch());
  assert.deepEqual(
    Array.from({ length: 30 }, () => b.nextBatch()),
    seqA,
  );
  assert.notDeepEqual(
    Array.from({ length: 30 }, () => c.nextBatch()),
    seqA,
  );
});

test('class-balanced: epochs of floor(N / batchSize) batches; resume mid-epoch equals the uninterrupted run', () => {
  const whole = make(9);
  const uninterrupted: number[][] = [];
  for (let e = 0; e < 3; e++) {
    assert.equal(whole.epoch, e);
    const epoch = [...whole.epochBatches()];
    assert.equal(epoch.length, whole.batchesPerEpoch);
    uninterrupted.push(...epoch);
  }
  for (const cut of [0, 5, whole.batchesPerEpoch, whole.batchesPerEpoch + 3]) {
    const first = make(9);
    const drawn = Array.from({ length: cut }, () => first.nextBatch());
    const saved = JSON.parse(JSON.stringify(first.state())) as SamplerState;
    assert.equal(saved.epoch * first.batchesPerEpoch + saved.batch, cut);
    const resumed = make(12345);
    resumed.restore(saved);
    const rest = Array.from({ length: uninterrupted.length - cut }, () => resumed.nextBatch());
    assert.deepEqual([...drawn, ...rest], uninterrupted, `resumed after ${cut} batches`);
  }
});

test('class-balanced: bad settings and foreign states are rejected with clear messages', () => {
  const y = Int32Array.from(labels);
  assert.throws(
    () => new ClassBalancedSampler({ labels: y, batchSize: 21, imagesPerClass: 5 }),
    /--batch-size 21 must be a multiple of --images-per-class 5/,
  );
  assert.throws(
    () => new ClassBalancedSampler({ labels: y, batchSize: 55, imagesPerClass: 5 }),
    /needs 11 classes .* has 10/,
  );
  assert.throws(
    () => new ClassBalancedSampler({ labels: [0, 1, -1], batchSize: 2, imagesPerClass: 1 }),
    /label of sample 2 is -1/,
  );
  assert.throws(
    () => new ClassBalancedSampler({ labels: [0, 1], batchSize: 4, imagesPerClass: 2 }),
    /fewer than one batch/,
  );
  const other = new ClassBalancedSampler({ labels: y, batchSize: 20, imagesPerClass: 4 });
  assert.throws(() => make().restore(other.state()), /state has imagesPerClass = 4, this sampler has 5/);
});

// Within a class, each draw is a uniform sample without replacement of imagesPerClass of its images: every
// image with probability k/n, every pair with k(k-1)/(n(n-1)). Class 0 has 30 images, class 9 has 10.
function assertUniformWithinClass(nextBatch: () => number[], batches = 3000): void {
  const members = (c: number) => labels.flatMap((y, i) => (y === c ? [i] : []));
  for (const c of [0, 9]) {
    const ids = members(c);
    const n = ids.length;
    const k = 5;
    const count = new Map<number, number>(ids.map((i) => [i, 0]));
    const pairs = new Map<string, number>();
    let draws = 0;
    for (let b = 0; b < batches; b++) {
      const chosen = nextBatch().filter((i) => labels[i] === c);
      if (chosen.length === 0) continue;
      draws++;
      assert.equal(new Set(chosen).size, k, `class ${c}: ${k} distinct images`);
      for (const i of chosen) count.set(i, (count.get(i) ?? 0) + 1);
      const sorted = [...chosen].sort((a, b2) => a - b2);
      for (let u = 0; u < k; u++) {
        for (let v = u + 1; v < k; v++) {
          const key = `${sorted[u]},${sorted[v]}`;
          pairs.set(key, (pairs.get(key) ?? 0) + 1);
        }
      }
    }
    // Binomial counts: within 5 standard deviations of the mean.
    const within = (x: number, p: number, what: string) => {
      const mean = draws * p;
      const sd = Math.sqrt(draws * p * (1 - p));
      assert.ok(Math.abs(x - mean) < 5 * sd, `${what}: ${x} times in ${draws} draws, expected ${mean.toFixed(1)}`);
    };
    for (const [i, x] of count) within(x, k / n, `class ${c}, image ${i}`);
    if (n <= 10) {
      const pPair = (k * (k - 1)) / (n * (n - 1));
      for (let u = 0; u < n; u++) {
        for (let v = u + 1; v < n; v++) {
          within(pairs.get(`${ids[u]},${ids[v]}`) ?? 0, pPair, `class ${c}, images ${ids[u]} and ${ids[v]} together`);
        }
      }
    }
  }
}

test('class-balanced: within a class, images are a uniform sample without replacement', () => {
  const s = make(3);
  assertUniformWithinClass(() => s.nextBatch());
});

test("class-balanced: the within-class check rejects a sampler that takes a class's first images", () => {
  // Same classes per batch as the real sampler, but always the first 5 images of each class (or a sliding
  // window of 5, which is uniform per image but not per pair).
  const byClass = new Map<number, number[]>();
  for (const [i, y] of labels.entries()) byClass.set(y, [...(byClass.get(y) ?? []), i]);
  const rewrite = (pick: (ids: number[], round: number) => number[]) => {
    const s = make(3);
    let round = 0;
    return () => {
      const batch = s.nextBatch();
      round++;
      const out: number[] = [];
      for (let g = 0; g < batch.length; g += 5) {
        const y = labels[batch[g] as number] as number;
        const ids = byClass.get(y) as number[];
        out.push(...(ids.length < 5 ? batch.slice(g, g + 5) : pick(ids, round)));
      }
      return out;
    };
  };
  assert.throws(() => assertUniformWithinClass(rewrite((ids) => ids.slice(0, 5))), /times in .* draws/);
  const window = (ids: number[], round: number) =>
    Array.from({ length: 5 }, (_, j) => ids[(round + j) % ids.length] as number);
  assert.throws(() => assertUniformWithinClass(rewrite(window)), /together: .* times in .* draws/);
});
