// Opens an index folder as a VisualSearchIndex with the backend its manifest names.
import { resolve } from 'node:path';
import type { OpenIndexOptions } from './backend.js';
import { BACKENDS, backendOf } from './backends.js';
import type { VisualSearchIndex } from './types.js';

export async function openIndex(dirIn: string, o: OpenIndexOptions = {}): Promise<VisualSearchIndex> {
  const dir = resolve(dirIn);
  return BACKENDS[backendOf(dir)].open(dir, o);
}
