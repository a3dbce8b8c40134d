// Opens an index folder as a VisualSearchIndex with the backend its manifest names.
import { resolve } from 'node:path';
import type { OpenIndexOptions } from './backend.js';
import { isLanceIndex } from './lancedb/layout.js';
import { openLanceIndex } from './lancedb/open.js';
import type { VisualSearchIndex } from './types.js';
import { openUsearchIndex } from './usearch/open.js';

export async function openIndex(dirIn: string, o: OpenIndexOptions = {}): Promise<VisualSearchIndex> {
  const dir = resolve(dirIn);
  return isLanceIndex(dir) ? openLanceIndex(dir) : openUsearchIndex(dir, o);
}
