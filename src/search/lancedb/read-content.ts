// The whole content of a LanceDB index folder (manifest, items, vectors, codes) at the table version the
// manifest names, for incremental builds: never the vectors of a newer, unfinished write; a live index's
// log applied (../live/replay.ts).

import { resolve } from 'node:path';
import { withLog } from '../live/replay.js';
import type { ItemMeta } from '../types.js';
import { type LanceManifest, readLanceManifest } from './layout.js';
import { openPinnedTable } from './pinned-table.js';
import { readTable } from './table-io.js';

export interface LanceContent {
  manifest: LanceManifest;
  items: ItemMeta[];
  /** n x dim unit vectors. */
  vectors: Float32Array;
  codes: Uint8Array;
}

export async function readLanceContent(dirIn: string): Promise<LanceContent> {
  const dir = resolve(dirIn);
  const manifest = readLanceManifest(dir);
  const { table } = await openPinnedTable(dir, manifest);
  try {
    return withLog({ manifest, ...(await readTable(table, manifest.dim)) }, dir) as LanceContent;
  } finally {
    table.close();
  }
}
