// One query against the Lance table, in each mode. Lance finds the candidates (its ANN index, or a flat scan
// when exact); scores are then recomputed from the in-memory unit vectors (cosine, as the usearch backend and
// `normsoftmax eval`) or are bits in common (binary), and ties are ordered by row, as the usearch backend.
import type { Table as LanceTable, VectorQuery } from '@lancedb/lancedb';
import { type RowHits, rescore } from '../rescore.js';
import { applyQuery, type LanceQuerySettings } from './settings.js';
import { CODE_COLUMN, VECTOR_COLUMN } from './table-data.js';

export interface LanceQueryContext {
  table: LanceTable;
  dim: number;
  /** n x dim unit vectors, by row. */
  vectors: Float32Array;
  rowOf: ReadonlyMap<string, number>;
  /** The ANN query settings, or null: flat (exact) search. */
  ann: LanceQuerySettings | null;
}

interface Row {
  id: string;
  _distance: number;
}

async function run(q: VectorQuery, limit: number, where: string | undefined): Promise<Row[]> {
  let query = q.select(['id', '_distance']).limit(limit);
  if (where !== undefined) query = query.where(where);
  return (await query.toArray()) as Row[];
}

function rowsOf(c: LanceQueryContext, found: Row[]): Int32Array {
  // A row another process added after this index was opened is not known here: it is skipped.
  return Int32Array.from(found.map((r) => c.rowOf.get(r.id) ?? -1).filter((r) => r >= 0));
}

export async function floatQuery(
  c: LanceQueryContext,
  query: Float32Array,
  k: number,
  where: string | undefined,
): Promise<RowHits> {
  const base = c.table.vectorSearch(query).column(VECTOR_COLUMN).distanceType('cosine');
  const q = c.ann === null ? base.bypassVectorIndex() : applyQuery(base, c.ann, k);
  const rows = rowsOf(c, await run(q, k, where));
  return rescore(c.vectors, c.dim, query, rows, k);
}

export async function binaryQuery(
  c: LanceQueryContext,
  code: Uint8Array,
  k: number,
  where: string | undefined,
): Promise<RowHits> {
  // Codes have no ANN index: a flat Hamming scan over ceil(dim / 8) bytes per item. The typings list only
  // the float metrics; Lance takes "hamming" for uint8 vectors (checked by test/search/lancedb.test.ts).
  const q = c.table
    .vectorSearch(code)
    .column(CODE_COLUMN)
    .distanceType('hamming' as 'l2')
    .bypassVectorIndex();
  const found = await run(q, k, where);
  const hits = found
    .map((r) => ({ row: c.rowOf.get(r.id) ?? -1, score: c.dim - Math.round(r._distance) }))
    .filter((h) => h.row >= 0)
    .sort((a, b) => b.score - a.score || a.row - b.row);
  return { rows: Int32Array.from(hits, (h) => h.row), scores: Float32Array.from(hits, (h) => h.score) };
}

export async function rerankQuery(
  c: LanceQueryContext,
  query: Float32Array,
  code: Uint8Array,
  k: number,
  oversample: number,
  where: string | undefined,
): Promise<RowHits> {
  const candidates = await binaryQuery(c, code, k * oversample, where);
  return rescore(c.vectors, c.dim, query, candidates.rows, k);
}
