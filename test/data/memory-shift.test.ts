// The in-memory source's shift augmentation: a zero-padded translation, drawn per (seed, epoch, batch).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemoryImages } from '../../src/data/sources/memory.js';
import type { Dataset, Sample } from '../../src/data/types.js';
import type { InputSpec } from '../../src/nn/input-spec.js';

// A 3x3 one-channel input spec with identity normalisation (pixel / 255 * 255 = pixel), so values read back as bytes.
const spec: InputSpec = { colorOrder: 'gray', channels: 1, range: 255, mean: [0], std: [1], size: 3 };
const pixels = [Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90])];
const samples: Sample[] = pixels.map((_, i) => ({ path: `img${i}`, label: i }));
const dataset = {
  name: 'tiny',
  root: '',
  splits: { train: samples },
  readRaw: (s: Sample) => ({ data: pixels[s.label] as Uint8Array, width: 3, height: 3, channels: 1 }),
} as unknown as Dataset;

test('shift moves each image right/down by its offsets and fills with zeros (hand-computed)', () => {
  const source = new InMemoryImages(dataset, samples, spec, { seed: 0, flip: false, shift: 1 });
  const batch = source.gather([0, 1], undefined, [
    [1, 0],
    [-1, 1],
  ]);
  assert.deepEqual(batch.images.toArray(), [0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 0, 0, 20, 30, 0, 50, 60, 0]);
  assert.deepEqual(batch.labels.toArray(), [0, 1]);
  source.dispose();
});

test('drawn shifts stay within the limit, vary, and repeat for the same (seed, epoch, batch)', async () => {
  const source = new InMemoryImages(dataset, samples, spec, { seed: 3, flip: false, shift: 1 });
  const seen = new Set<string>();
  for (let batch = 0; batch < 20; batch++) {
    const a = await source.load([0, 0, 0, 0], 1, batch);
    const b = await source.load([0, 0, 0, 0], 1, batch);
    const values = a.images.toArray();
    assert.deepEqual(values, b.images.toArray());
    for (let i = 0; i < 4; i++) {
      const image = values.slice(i * 9, i * 9 + 9);
      // The centre pixel (5) of image 0 lands somewhere in the 3x3 frame for any shift of at most 1.
      assert.ok(image.includes(5), `image ${image} lost its centre pixel`);
      seen.add(image.join(','));
    }
  }
  assert.ok(seen.size >= 6, `expected several of the 9 shifts, saw ${seen.size}`);
  source.dispose();
});

test('without shift the source returns the images unchanged', async () => {
  const source = new InMemoryImages(dataset, samples, spec, { seed: 0, flip: false });
  assert.deepEqual((await source.load([1], 0, 0)).images.toArray(), [10, 20, 30, 40, 50, 60, 70, 80, 90]);
  source.dispose();
});
