// The image files under a folder, recursively: by extension, and files without a known extension by
// their first bytes (src/data/image/image-kind.ts). Hidden entries (".name") and excluded folders
// (the index being written) are left out. Sorted by path.
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { IMAGE_FILE_EXTENSIONS, sniffImage } from '../../data/image/image-kind.js';
import { InputError } from '../../util/errors.js';

const NOT_IMAGES = new Set(['.txt', '.json', '.jsonl', '.csv', '.md', '.npy', '.mat', '.zip', '.tar', '.gz', '.html']);

/** Whether a file without a known image extension starts like an image. */
function looksLikeImage(path: string): boolean {
  const head = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, head, 0, head.length, 0);
    return sniffImage(head.subarray(0, n)) !== null;
  } finally {
    closeSync(fd);
  }
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
        if (IMAGE_FILE_EXTENSIONS.has(ext) || (!NOT_IMAGES.has(ext) && looksLikeImage(p))) files.push(p);
      }
    }
  };
  walk(root);
  files.sort();
  if (files.length === 0) throw new InputError(`--images ${dir}: no images (jpg, png, webp, ...) found`);
  return files;
}
