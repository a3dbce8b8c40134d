// The Lance table of an index at the version its manifest names (manifest.lance.tableVersion). A build or
// an add/delete commits the table first and writes the manifest after it, so a writer interrupted between
// the two leaves the table ahead of its manifest (possibly another model's vectors): readers use the
// manifest's version, never the latest, and the next writer rolls the table back to it.
import { join } from 'node:path';
import { type Connection, connect, type Table as LanceTable } from '@lancedb/lancedb';
import { InputError } from '../../util/errors.js';
import { LANCE_DIR, type LanceManifest } from './layout.js';

export interface PinnedTable {
  table: LanceTable;
  /** The manifest's version: what the table is checked out at (or, when not ahead, its latest). */
  pinned: number;
  /** The table's latest version. */
  latest: number;
  /** The table has versions newer than the manifest's (checked out at the manifest's: read-only). */
  ahead: boolean;
}

/** Opens the index's table at its manifest's version; refuses a table that no longer has that version. */
export async function openPinnedTable(dir: string, m: LanceManifest, db?: Connection): Promise<PinnedTable> {
  const conn = db ?? (await connect(join(dir, LANCE_DIR)));
  if (!(await conn.tableNames()).includes(m.lance.table))
    throw new InputError(`index ${dir}: the Lance database has no table "${m.lance.table}"`);
  const table = await conn.openTable(m.lance.table);
  const latest = await table.version();
  const pinned = m.lance.tableVersion;
  if (latest === pinned) return { table, pinned, latest, ahead: false };
  const known = (await table.listVersions()).map((v) => v.version);
  if (!known.includes(pinned) || pinned > latest) {
    table.close();
    throw new InputError(
      `index ${dir}: the manifest names version ${pinned} of the Lance table, which has no such version (latest ${latest}): rebuild the index (normsoftmax index build)`,
    );
  }
  await table.checkout(pinned);
  return { table, pinned, latest, ahead: true };
}

/** Makes the pinned version the table's latest again (a new version with its content; newer rows gone). */
export async function rollBack(p: PinnedTable): Promise<void> {
  if (!p.ahead) return;
  await p.table.restore();
  p.ahead = false;
  p.latest = await p.table.version();
}

const LANCE_DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * optimize()'s cleanup bound: LanceDB's default (versions older than 7 days go), but never the manifest's
 * version, which must outlive the write until the next manifest names another (a crash in between must
 * find it). optimize() otherwise keeps only the current version of those older than 7 days.
 */
export async function keepManifestVersion(table: LanceTable, pinned: number): Promise<{ cleanupOlderThan: Date }> {
  const v = (await table.listVersions()).find((x) => x.version === pinned);
  const bound = Date.now() - LANCE_DEFAULT_RETENTION_MS;
  return { cleanupOlderThan: new Date(v ? Math.min(bound, v.timestamp.getTime() - 1000) : bound) };
}
