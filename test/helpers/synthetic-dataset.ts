// A tiny in-memory data set for training tests: 28x28 images with a class-specific bright square at a
// jittered position, plus noise (4 training classes x 12, 3 test classes x 6), read through readRaw.
import type { Dataset, RawImage, Sample } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';

export function syntheticDataset(): Dataset {
  const make = (split: string, classes: number, perClass: number, seed: number) => {
    const rng = new Rng(seed);
    const samples: Sample[] = [];
    const pixels: Uint8Array[] = [];
    for (let c = 0; c < classes; c++) {
      for (let i = 0; i < perClass; i++) {
        const img = new Uint8Array(28 * 28);
        for (let p = 0; p < img.length; p++) img[p] = rng.int(40);
        const x0 = (c * 6 + rng.int(3)) % 20;
        const y0 = (c * 9 + rng.int(3)) % 20;
        for (let y = y0; y < y0 + 8; y++) for (let x = x0; x < x0 + 8; x++) img[y * 28 + x] = 200 + rng.int(55);
        samples.push({ path: `synthetic:${split}/${pixels.length}`, label: c });
        pixels.push(img);
      }
    }
    return { samples, pixels };
  };
  const train = make('train', 4, 12, 1);
  const test = make('test', 3, 6, 2);
  const readRaw = (s: Sample): RawImage => {
    const [, split, index] = /^synthetic:(\w+)\/(\d+)$/.exec(s.path) ?? [];
    const source = split === 'train' ? train : test;
    return { data: source.pixels[Number(index)] as Uint8Array, width: 28, height: 28, channels: 1 };
  };
  return { name: 'synthetic', root: '', splits: { train: train.samples, test: test.samples }, readRaw };
}
