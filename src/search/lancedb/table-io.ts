// Reading a Lance table back into typed arrays, and bringing a table in line with a new item set by deleting
// and adding only the rows that differ (no rewrite of the rest, no index rebuild).
import type { Table as LanceTable } from '@lancedb/lancedb';
import type { Table as ArrowTable, Data } from 'apache-arrow';
import { checkItemFields } from '../item-fields.js';
import type { ItemMeta } from '../types.js';
import type { LanceManifest } from './layout.js';
import { openPinnedTable } from './pinned-table.js';
import { CODE_COLUMN, itemsTable, META_COLUMN, STORED_COLUMN, VECTOR_COLUMN } from './table-data.js';

export interface TableContent {
  items: ItemMeta[];
  /** n x dim row-major. */
  vectors: Float32Array;
  /** n x ceil(dim / 8). */
  codes: Uint8Array;
}

/** The child values of a FixedSizeList column chunk, as one typed-array view. */
function listValues<T extends Float32Array | Uint8Array>(d: Data, size: number): T {
  const child = d.children[0] as Data;
  const start = child.offset + d.offset * size;
  return (child.values as T).subarray(start, start + d.length * size) as T;
}

function text(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** Whether the table has a live index's columns (meta, stored). */
export async function hasLiveColumns(table: LanceTable): Promise<boolean> {
  return (await table.schema()).fields.some((f) => f.name === META_COLUMN);
}

/** An item's fields as the meta column holds them (JSON text, as bytes); null when unreadable. */
function metaOf(v: unknown): ItemMeta['meta'] | null {
  if (v === null || v === undefined) return undefined;
  try {
    const text = typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('utf8');
    const fields = checkItemFields(JSON.parse(text), 'meta');
    return typeof fields === 'string' ? null : fields;
  } catch {
    return null;
  }
}

/** Every row of the table (in Lance's scan order), with its metadata, vector and code. */
export async function readTable(table: LanceTable, dim: number): Promise<TableContent> {
  const live = await hasLiveColumns(table);
  const t = (await table
    .query()
    .select([
      'id',
      'path',
      'label',
      'size',
      'hash',
      VECTOR_COLUMN,
      CODE_COLUMN,
      ...(live ? [META_COLUMN, STORED_COLUMN] : []),
    ])
    .toArrow()) as unknown as ArrowTable;
  const n = t.numRows;
  const codeBytes = Math.ceil(dim / 8);
  const vectors = new Float32Array(n * dim);
  const codes = new Uint8Array(n * codeBytes);
  const items: ItemMeta[] = [];
  let row = 0;
  for (const batch of t.batches) {
    const col = (name: string) => batch.getChild(name);
    const [id, path, label, size, hash, meta, stored] = [
      'id',
      'path',
      'label',
      'size',
      'hash',
      META_COLUMN,
      STORED_COLUMN,
    ].map(col);
    for (let i = 0; i < batch.numRows; i++) {
      const s = size?.get(i);
      const item: ItemMeta = {
        id: String(id?.get(i)),
        path: text(path?.get(i)),
        label: text(label?.get(i)),
        size: s === null || s === undefined ? null : Number(s),
        hash: text(hash?.get(i)),
      };
      const fields = metaOf(meta?.get(i));
      if (fields === null)
        throw new Error(
          `the Lance table's meta of item ${JSON.stringify(item.id).slice(0, 100)} is not an object of fields`,
        );
      if (fields !== undefined) item.meta = fields;
      if (stored?.get(i) === true) item.stored = true;
      items.push(item);
    }
    for (const d of col(VECTOR_COLUMN)?.data ?? []) {
      vectors.set(listValues<Float32Array>(d, dim), row * dim);
      row += d.length;
    }
    row -= batch.numRows;
    for (const d of col(CODE_COLUMN)?.data ?? []) {
      codes.set(listValues<Uint8Array>(d, codeBytes), row * codeBytes);
      row += d.length;
    }
  }
  return { items, vectors, codes };
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Deletes the rows with these ids, in batches of predicates of bounded length. */
export async function deleteIds(table: LanceTable, ids: readonly string[]): Promise<void> {
  for (let s = 0; s < ids.length; s += 500) {
    await table.delete(
      `id IN (${ids
        .slice(s, s + 500)
        .map(sqlString)
        .join(', ')})`,
    );
  }
}

export async function addRows(
  table: LanceTable,
  items: readonly ItemMeta[],
  dim: number,
  vectors: Float32Array,
  codes: Uint8Array,
): Promise<void> {
  if (items.length === 0) return;
  await table.add(itemsTable(items, dim, vectors, codes, await hasLiveColumns(table)) as never);
}

function sameRow(a: TableContent, i: number, b: TableContent, j: number, dim: number): boolean {
  const x = a.items[i] as ItemMeta;
  const y = b.items[j] as ItemMeta;
  if (x.path !== y.path || x.label !== y.label || x.size !== y.size || x.hash !== y.hash) return false;
  if (JSON.stringify(x.meta ?? null) !== JSON.stringify(y.meta ?? null) || (x.stored ?? false) !== (y.stored ?? false))
    return false;
  for (let c = 0; c < dim; c++) if (a.vectors[i * dim + c] !== b.vectors[j * dim + c]) return false;
  return true;
}

/** Makes the table hold exactly `next`: deletes rows gone or changed, adds rows new or changed. */
export async function syncTable(
  table: LanceTable,
  dim: number,
  next: TableContent,
): Promise<{ added: number; removed: number }> {
  const now = await readTable(table, dim);
  const nowRow = new Map(now.items.map((it, i) => [it.id, i]));
  const nextIds = new Set(next.items.map((it) => it.id));
  const remove = now.items.filter((it) => !nextIds.has(it.id)).map((it) => it.id);
  const addRowsIdx: number[] = [];
  next.items.forEach((it, j) => {
    const i = nowRow.get(it.id);
    if (i === undefined) addRowsIdx.push(j);
    else if (!sameRow(now, i, next, j, dim)) {
      remove.push(it.id);
      addRowsIdx.push(j);
    }
  });
  await deleteIds(table, remove);
  const codeBytes = Math.ceil(dim / 8);
  const vectors = new Float32Array(addRowsIdx.length * dim);
  const codes = new Uint8Array(addRowsIdx.length * codeBytes);
  addRowsIdx.forEach((j, r) => {
    vectors.set(next.vectors.subarray(j * dim, (j + 1) * dim), r * dim);
    codes.set(next.codes.subarray(j * codeBytes, (j + 1) * codeBytes), r * codeBytes);
  });
  await addRows(
    table,
    addRowsIdx.map((j) => next.items[j] as ItemMeta),
    dim,
    vectors,
    codes,
  );
  return { added: addRowsIdx.length, removed: remove.length };
}

/** The rows (scan order) of those of `ids` the table holds at the manifest's version: its id column only. */
export async function rowsOfIds(dir: string, m: LanceManifest, ids: ReadonlySet<string>): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (ids.size === 0) return found;
  const { table } = await openPinnedTable(dir, m);
  try {
    const t = (await table.query().select(['id']).toArrow()) as unknown as ArrowTable;
    const column = t.getChild('id');
    for (let row = 0; row < t.numRows; row++) {
      const id = String(column?.get(row));
      if (ids.has(id)) found.set(id, row);
    }
  } finally {
    table.close();
  }
  return found;
}
