// Synthetic photos for the data benchmark: JPEGs of a given size with smooth colour fields, edges and
// noise, so that they compress (and decode) like camera images rather than flat colour.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

function pixels(width: number, height: number, seed: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  let state = (seed * 2654435761) >>> 0 || 1;
  const noise = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) % 41) - 20;
  };
  const fx = 9 + (seed % 23);
  const fy = 13 + (seed % 17);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const box = x > width / 4 && x < width / 2 && y > height / 3 && y < (2 * height) / 3;
      data[o] = box ? 230 : 128 + 100 * Math.sin(x / fx + y / 37) + noise();
      data[o + 1] = box ? 40 : 128 + 90 * Math.cos(y / fy - x / 29) + noise();
      data[o + 2] = (x * 255) / width + noise();
    }
  }
  return data;
}

/** Writes `count` JPEGs into dir and returns their paths. */
export async function writeSyntheticJpegs(
  dir: string,
  count: number,
  width: number,
  height: number,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `img-${String(i).padStart(5, '0')}.jpg`);
    await sharp(pixels(width, height, i + 1), { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(path);
    paths.push(path);
  }
  return paths;
}
