// Where an item's image is: its path under the index's image root, symlinks resolved; null when there is
// none, it is missing, or it lies outside the root (an absolute path, "..", a symlink that leads out).
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export function imageFileUnder(imageRoot: string | null, path: string | null): string | null {
  if (path === null || imageRoot === null || isAbsolute(path)) return null;
  const full = resolve(imageRoot, path);
  if (!existsSync(full)) return null;
  const real = realpathSync(full);
  const rel = relative(realpathSync(imageRoot), real);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
  return real;
}
