// A LanceDB index folder: manifest.json (the same manifest as the usearch backend's, docs/index-format.md,
// with backend "lancedb", no data files of its own and a `lance` section) and the Lance database in
// lance/ (table "items": metadata, vectors and codes; versioned by Lance itself).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, InputError } from '../../util/errors.js';
import { INDEX_FORMAT, INDEX_VERSION, MANIFEST_NAME, type Manifest } from '../manifest.js';
import type { LanceAnnIndex, LanceQuerySettings } from './settings.js';

export const LANCE_DIR = 'lance';
export const LANCE_TABLE = 'items';

export interface LanceInfo {
  table: string;
  /** The approximate index on the vectors, or null: search is exact (fewer items than exactBelow). */
  index: LanceAnnIndex | null;
  /** The query settings search uses with that index. */
  query: LanceQuerySettings;
  /** Measured at build time against exact search on up to `recallQueries` item vectors (null: exact). */
  recallAt10: number | null;
  recallQueries: number;
  /** Of those item vectors, how many found their own item first. */
  selfHits: number | null;
  /**
   * The table version this manifest describes: readers open the table at this version (a newer one is a
   * write interrupted before its manifest, rolled back by the next writer).
   */
  tableVersion: number;
}

export type LanceManifest = Manifest & { backend: 'lancedb'; lance: LanceInfo };

/** Reads the manifest of a LanceDB index folder; the shared checks as in manifest.ts (format, version). */
export function readLanceManifest(dir: string): LanceManifest {
  const path = join(dir, MANIFEST_NAME);
  if (!existsSync(path))
    throw new InputError(`index ${dir}: no ${MANIFEST_NAME} (not an index, or its build never finished)`);
  let m: Partial<LanceManifest>;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Partial<LanceManifest>;
  } catch (e) {
    throw new FormatError(path, `not valid JSON (${(e as Error).message})`);
  }
  if (m?.format !== INDEX_FORMAT)
    throw new FormatError(path, `format is "${String(m?.format)}", expected "${INDEX_FORMAT}"`);
  if (typeof m.version !== 'number' || m.version > INDEX_VERSION || m.version < 1)
    throw new FormatError(
      path,
      `index format version ${String(m.version)} is not one this normsoftmax reads (1 to ${INDEX_VERSION})`,
    );
  if (m.backend !== 'lancedb') throw new FormatError(path, `backend is "${String(m.backend)}", expected "lancedb"`);
  if (!m.lance || typeof m.lance.table !== 'string' || !Number.isInteger(m.dim) || !m.embedder)
    throw new FormatError(path, 'lance, dim and embedder are required');
  if (
    m.wal !== undefined &&
    (m.version < 2 || !Number.isSafeInteger(m.wal?.appliedSeq) || (m.wal?.appliedSeq as number) < 0)
  )
    throw new FormatError(path, 'wal.appliedSeq must be a non-negative integer (and the version 2)');
  if (!Number.isInteger(m.lance.tableVersion) || m.lance.tableVersion < 1)
    throw new FormatError(path, 'lance.tableVersion (the Lance table version the index is at) is required');
  if (!existsSync(join(dir, LANCE_DIR)))
    throw new InputError(`index ${dir}: no ${LANCE_DIR}/ folder (the Lance database)`);
  return m as LanceManifest;
}

/** Whether a folder holds a LanceDB index (its manifest says backend "lancedb"); false when unreadable. */
export function isLanceIndex(dir: string): boolean {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_NAME), 'utf8')) as { backend?: unknown };
    return m.backend === 'lancedb';
  } catch {
    return false;
  }
}
