// The bytes of the files under a folder, recursively (index sizes for `index info` and /api/info).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The sum of the sizes of the files under `dir`; 0 when it does not exist. */
export function folderBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return total;
}
