// The one table of search backends, keyed by the manifest's `backend`: opening, building (write, and
// readContent for incremental reuse), `index info` and the --backend flag look their backend up here, and
// nothing else in src/search asks which backend a folder has. A new backend is a folder beside usearch/ and
// lancedb/ with its SearchBackend (backend.ts), its name in INDEX_BACKENDS (types.ts) and its row here.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';
import type { SearchBackend } from './backend.js';
import { lanceBackend } from './lancedb/backend.js';
import { MANIFEST_NAME } from './manifest.js';
import { INDEX_BACKENDS, type IndexBackend } from './types.js';
import { usearchBackend } from './usearch/backend.js';

export const BACKENDS: Readonly<Record<IndexBackend, SearchBackend>> = {
  usearch: usearchBackend,
  lancedb: lanceBackend,
};

const isBackend = (v: unknown): v is IndexBackend => (INDEX_BACKENDS as readonly unknown[]).includes(v);

/**
 * The backend a folder's manifest names. A folder whose manifest names none (no folder, no manifest, not
 * JSON, an unknown backend) is usearch's, whose reader then says what is wrong with it.
 */
export function backendOf(dir: string): IndexBackend {
  let named: unknown;
  try {
    named = (JSON.parse(readFileSync(join(dir, MANIFEST_NAME), 'utf8')) as { backend?: unknown }).backend;
  } catch {
    return 'usearch';
  }
  return isBackend(named) ? named : 'usearch';
}

/** The --backend flag's value; undefined when not given. */
export function parseBackend(value: string | undefined): IndexBackend | undefined {
  if (value === undefined) return undefined;
  if (!isBackend(value)) throw new UsageError(`--backend: expected ${INDEX_BACKENDS.join(' or ')}, got "${value}"`);
  return value;
}

/** For search and serve: the folder's backend is its manifest's; a --backend that says otherwise is refused. */
export function expectBackend(dir: string, value: string | undefined): void {
  const want = parseBackend(value);
  if (want === undefined || !existsSync(join(dir, MANIFEST_NAME))) return;
  const have = backendOf(dir);
  if (have !== want) throw new UsageError(`--backend ${want}: ${dir} is a ${have} index`);
}
