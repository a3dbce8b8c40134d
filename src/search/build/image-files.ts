// The image files under a folder, recursively: by extension, and files without a known extension by
// their first bytes (JPEG, PNG, GIF, WebP, BMP, TIFF). Hidden entries (".name") and excluded folders
// (the index being written) are left out. Sorted by path.
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.bmp']);
const NOT_IMAGES = new Set(['.txt', '.json', '.jsonl', '.csv', '.md', '.npy', '.mat', '.zip', '.tar', '.gz', '.html']);

function sniffImage(path: string): boolean {
  const b = Buffer.alloc(12);
  let n = 0;
  const fd = openSync(path, 'r');
  try {
    n = readSync(fd, b, 0, 12, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 4) return false;
  const ascii = b.toString('latin1', 0, n);
  return (
    (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) ||
    ascii.startsWith('\x89PNG') ||
    ascii.startsWith('GIF8') ||
    (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') ||
    ascii.startsWith('BM') ||
    ascii.startsWith('II*\0') ||
    ascii.startsWith('MM\0*')
  );
}

export function listImageFiles(dir: string, exclude: readonly string[] = []): string[] {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new InputError(`--images ${dir}: not a directory`);
  const skip = new Set(exclude.map((p) => resolve(p)));
  const files: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      if (skip.has(p)) continue;
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        const ext = extname(name).toLowerCase();
        if (IMAGE_EXTENSIONS.has(ext) || (!NOT_IMAGES.has(ext) && sniffImage(p))) files.push(p);
      }
    }
  };
  walk(root);
  files.sort();
  if (files.length === 0) throw new InputError(`--images ${dir}: no images (jpg, png, webp, ...) found`);
  return files;
}
