// Small generated image folders for tests: one sub-folder per class, PNGs whose colour and stripes depend on
// the class (so that even random weights tend to group them) plus a little deterministic noise.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export interface ImageFolder {
  root: string;
  /** Every image, sorted by path (the order `embed --images` uses). */
  paths: string[];
  /** The class index of each path (its folder's index among the sorted folders). */
  labels: number[];
}

/**
 * Writes `classes` folders class0, class1, ... of `perClass` RGB PNGs of size x size under root. `noise`
 * (0-256) is the amplitude of the per-pixel noise: large values drown the class pattern (harder retrieval).
 */
export async function writeImageFolder(
  root: string,
  classes: number,
  perClass: number,
  o: { size?: number; noise?: number } = {},
): Promise<ImageFolder> {
  const size = o.size ?? 40;
  const amplitude = o.noise ?? 32;
  const paths: string[] = [];
  const labels: number[] = [];
  let state = 12345;
  const noise = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return Math.floor(((state >>> 16) / 65536) * amplitude);
  };
  for (let c = 0; c < classes; c++) {
    const dir = join(root, `class${c}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const pixels = Buffer.alloc(size * size * 3);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const stripe = Math.floor((c % 2 === 0 ? x : y) / (3 + c)) % 2;
          const p = 3 * (y * size + x);
          pixels[p] = (c * 83 + stripe * 120 + noise()) & 255;
          pixels[p + 1] = (c * 151 + (1 - stripe) * 90 + noise()) & 255;
          pixels[p + 2] = (c * 47 + stripe * 60 + noise()) & 255;
        }
      }
      const path = join(dir, `img${i}.png`);
      await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toFile(path);
      paths.push(path);
      labels.push(c);
    }
  }
  return { root, paths, labels };
}
