// A tiny Fashion-MNIST package folder (src/clothes/<k>.json) for fast study runs: `perClass` 28x28 images of
// each of the 10 classes, a class-dependent bright band plus noise, so a few steps already learn something.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tinyFashionRoot(perClass = 24, seed = 1): string {
  const root = mkdtempSync(join(tmpdir(), 'tiny-fashion-'));
  mkdirSync(join(root, 'src', 'clothes'), { recursive: true });
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  for (let k = 0; k < 10; k++) {
    const images: number[][] = [];
    for (let i = 0; i < perClass; i++) {
      const image: number[] = [];
      for (let p = 0; p < 784; p++) {
        const row = Math.floor(p / 28);
        const band = row >= 2 * k + 2 && row < 2 * k + 6;
        image.push(Math.min(255, Math.floor((band ? 160 : 0) + 90 * rand())));
      }
      images.push(image);
    }
    writeFileSync(join(root, 'src', 'clothes', `${k}.json`), JSON.stringify({ data: images }));
  }
  return root;
}
