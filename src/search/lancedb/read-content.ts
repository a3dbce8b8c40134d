// The whole content of a LanceDB index folder (manifest, items, vectors, codes), for incremental builds.

import { join, resolve } from 'node:path';
import { connect } from '@lancedb/lancedb';
import type { ItemMeta } from '../types.js';
import { LANCE_DIR, type LanceManifest, readLanceManifest } from './layout.js';
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
  const table = await (await connect(join(dir, LANCE_DIR))).openTable(manifest.lance.table);
  try {
    return { manifest, ...(await readTable(table, manifest.dim)) };
  } finally {
    table.close();
  }
}
