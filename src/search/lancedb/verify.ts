// `index info --verify` for a LanceDB index: the table still has the version the manifest names, and holds
// the manifest's item count at that version (Lance checks its own data files as it reads them).
import { InputError } from '../../util/errors.js';
import type { LanceManifest } from './layout.js';
import { openPinnedTable } from './pinned-table.js';

export async function verifyLanceIndex(dir: string, m: LanceManifest): Promise<void> {
  const p = await openPinnedTable(dir, m);
  try {
    const rows = await p.table.countRows();
    if (rows !== m.items)
      throw new InputError(
        `index ${dir}: the Lance table has ${rows} rows at version ${p.pinned}, the manifest says ${m.items} items: rebuild the index`,
      );
  } finally {
    p.table.close();
  }
}
