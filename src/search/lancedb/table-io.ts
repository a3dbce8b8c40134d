// Reading a Lance table back into typed arrays, and bringing a table in line with a new item set by deleting
// and adding only the rows that differ (no rewrite of the rest, no index rebuild).
import type { Table as LanceTable } from '@lancedb/lancedb';
import type { Table as ArrowTable, Data } from 'apache-arrow';
import type { ItemMeta } from '../types.js';
import { CODE_COLUMN, itemsTable, VECTOR_COLUMN } from './table-data.js';

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

/** Every row of the table (in Lance's scan order), with its metadata, vector and code. */
export async function readTable(table: LanceTable, dim: number): Promise<TableContent> {
  const t = (await table
    .query()
    .select(['id', 'path', 'label', 'size', 'hash', VECTOR_COLUMN, CODE_COLUMN])
    .toArrow()) as unknown as ArrowTable;
  const n = t.numRows;
  const codeBytes = Math.ceil(dim / 8);
  const vectors = new Float32Array(n * dim);
  const codes = new Uint8Array(n * codeBytes);
  const items: ItemMeta[] = [];
  let row = 0;
  for (const batch of t.batches) {
    const col = (name: string) => batch.getChild(name);
    const [id, path, label, size, hash] = ['id', 'path', 'label', 'size', 'hash'].map(col);
    for (let i = 0; i < batch.numRows; i++) {
      const s = size?.get(i);
      items.push({
        id: String(id?.get(i)),
        path: text(path?.get(i)),
        label: text(label?.get(i)),
        size: s === null || s === undefined ? null : Number(s),
        hash: text(hash?.get(i)),
      });
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
  await table.add(itemsTable(items, dim, vectors, codes) as never);
}

function sameRow(a: TableContent, i: number, b: TableContent, j: number, dim: number): boolean {
  const x = a.items[i] as ItemMeta;
  const y = b.items[j] as ItemMeta;
  if (x.path !== y.path || x.label !== y.label || x.size !== y.size || x.hash !== y.hash) return false;
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
