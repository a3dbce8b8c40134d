// Builds or updates a LanceDB index folder (layout.ts) from the same content and options as the usearch
// writer (IndexContent and WriteOptions, ../backend.ts). Over an existing LanceDB index with the same
// embedder and dim, only rows that are new, changed or gone are written (Lance keeps the previous
// version); the ANN index is created once the table has more than exactBelow items, and later rows are
// folded into it by optimize() (no rebuild). Recall@10 against exact search and self-hits are measured on
// up to RECALL_QUERIES item vectors. The table is committed first and the manifest (naming the table
// version) written last; a table found ahead of its manifest (an earlier write interrupted between the
// two) is rolled back to the manifest's version before anything is compared or written. The caller holds
// the folder's writer lock.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Table as LanceTable } from '@lancedb/lancedb';
import { writeFileAtomic } from '../../io/atomic.js';
import { UsageError } from '../../util/errors.js';
import { faultPoint } from '../../util/fault.js';
import type { IndexContent, WriteOptions } from '../backend.js';
import { packCodes } from '../binary-codes.js';
import { INDEX_FORMAT, MANIFEST_NAME, manifestVersion, removeManifestTemps } from '../manifest.js';
import { RECALL_QUERIES, sampleRows } from '../recall-sample.js';
import type { EmbedderIdentity } from '../types.js';
import { isLanceIndex, LANCE_DIR, LANCE_TABLE, type LanceManifest, readLanceManifest } from './layout.js';
import { keepManifestVersion, openPinnedTable, rollBack } from './pinned-table.js';
import { floatQuery, type LanceQueryContext } from './query.js';
import { indexConfig, type LanceAnnIndex, type LanceQuerySettings, TUNED_INDEX, TUNED_QUERY } from './settings.js';
import { itemsTable, VECTOR_COLUMN } from './table-data.js';
import { readTable, syncTable } from './table-io.js';

export interface LanceWriteOptions extends WriteOptions {
  ann?: LanceAnnIndex;
  query?: LanceQuerySettings;
  /** Item vectors to measure recall@10 and self-hits with (default RECALL_QUERIES; 0: not measured). */
  recallQueries?: number;
}

const sameEmbedder = (a: EmbedderIdentity, b: EmbedderIdentity) =>
  a.dim === b.dim && a.checkpointSha256 === b.checkpointSha256 && a.arch === b.arch;

async function hasVectorIndex(table: LanceTable): Promise<boolean> {
  return (await table.listIndices()).some((i) => i.columns.includes(VECTOR_COLUMN));
}

export interface AnnQuality {
  recallAt10: number;
  selfHits: number;
  queries: number;
}

/**
 * Recall@10 of the ANN search against exact search, and how many items found themselves first, with
 * item vectors as queries (ties count as hits, as ../usearch/hnsw-build.ts; the rows from ../recall-sample.ts).
 */
export async function measureAnn(
  c: LanceQueryContext,
  query: LanceQuerySettings,
  rows: readonly number[],
): Promise<AnnQuality> {
  const k = Math.min(10, c.rowOf.size);
  let hits = 0;
  let selfHits = 0;
  const chunk = 16;
  for (let s = 0; s < rows.length; s += chunk) {
    await Promise.all(
      rows.slice(s, s + chunk).map(async (r) => {
        const q = c.vectors.subarray(r * c.dim, (r + 1) * c.dim);
        const exact = await floatQuery({ ...c, ann: null }, q, k, undefined);
        const ann = await floatQuery({ ...c, ann: query }, q, k, undefined);
        const kth = exact.scores[k - 1] as number;
        hits += Math.min(k, Array.from(ann.scores).filter((v) => v >= kth - 1e-5).length);
        if (ann.rows[0] === r || (ann.scores[0] as number) >= 1 - 1e-6) selfHits++;
      }),
    );
  }
  return { recallAt10: rows.length === 0 ? 1 : hits / (rows.length * k), selfHits, queries: rows.length };
}

export async function writeLanceIndex(
  dir: string,
  content: IndexContent,
  o: LanceWriteOptions,
): Promise<LanceManifest> {
  if (o.precision !== 'f32') throw new UsageError(`--precision ${o.precision}: the lancedb backend stores f32 vectors`);
  if (existsSync(join(dir, MANIFEST_NAME)) && !isLanceIndex(dir))
    throw new UsageError(`--backend lancedb: ${dir} holds an index of another backend (use a new folder)`);
  const { items, dim, vectors } = content;
  const n = items.length;
  if (vectors.length !== n * dim)
    throw new Error(`writeLanceIndex: ${vectors.length} values for ${n} items of dim ${dim}`);
  const codes = content.codes ?? packCodes(vectors, dim);
  mkdirSync(dir, { recursive: true });
  const prev = isLanceIndex(dir) ? readLanceManifest(dir) : null;
  const db = await connect(join(dir, LANCE_DIR));
  const exists = (await db.tableNames()).includes(LANCE_TABLE);
  let table: LanceTable | null = null;
  if (exists && prev !== null && prev.dim === dim && sameEmbedder(prev.embedder, o.embedder)) {
    const pinned = await openPinnedTable(dir, prev, db).catch((e: Error) => {
      o.onStatus?.(`lancedb: the table cannot be updated in place (${e.message}); writing it anew`);
      return null;
    });
    if (pinned?.ahead) {
      o.onStatus?.(
        `lancedb: the table is at version ${pinned.latest}, ahead of the manifest's ${pinned.pinned} (an interrupted write): rolled back to ${pinned.pinned}`,
      );
      await rollBack(pinned);
    }
    table = pinned?.table ?? null;
  }
  if (table !== null) {
    const d = await syncTable(table, dim, { items, vectors, codes });
    o.onStatus?.(`lancedb: ${d.added} items added, ${d.removed} removed`);
  } else {
    table = await db.createTable(LANCE_TABLE, itemsTable(items, dim, vectors, codes) as never, {
      mode: exists ? 'overwrite' : 'create',
    });
  }
  let ann: LanceAnnIndex | null = null;
  const query = o.query ?? TUNED_QUERY;
  let quality: AnnQuality | null = null;
  if (n > o.exactBelow) {
    const asked = o.graph && Object.keys(o.graph).length > 0 ? o.graph : null;
    const before = prev?.lance.index ?? TUNED_INDEX;
    // --hnsw-m / --hnsw-ef-construction: the HNSW kinds' m and efConstruction, the index made again with them.
    ann = o.ann ?? (asked ? { ...before, ...asked } : before);
    if (asked || !(await hasVectorIndex(table))) {
      o.onStatus?.(`lancedb: building the ${ann.kind} index (${n} items)`);
      await table.createIndex(VECTOR_COLUMN, { config: indexConfig(ann), replace: true });
    } else {
      // New rows are searched by a flat scan until optimize() adds them to the index.
      await table.optimize(prev ? await keepManifestVersion(table, prev.lance.tableVersion) : {});
    }
    // Rows in Lance's scan order (after an incremental update it is not the order of `items`).
    const stored = await readTable(table, dim);
    const c: LanceQueryContext = {
      table,
      dim,
      vectors: stored.vectors,
      rowOf: new Map(stored.items.map((it, i) => [it.id, i])),
      ann: query,
    };
    const sample = sampleRows(stored.items.length, o.recallQueries ?? RECALL_QUERIES);
    if (sample.length > 0) {
      quality = await measureAnn(c, query, sample);
      o.onStatus?.(
        `lancedb ANN recall@10 vs exact: ${quality.recallAt10.toFixed(4)} on ${quality.queries} item queries; ` +
          `${quality.selfHits} found themselves first`,
      );
    }
  }
  const now = new Date().toISOString();
  const manifest: LanceManifest = {
    format: INDEX_FORMAT,
    version: manifestVersion(o),
    backend: 'lancedb',
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
    generation: (prev?.generation ?? 0) + 1,
    embedder: o.embedder,
    items: n,
    dim,
    precision: 'f32',
    codeBytes: Math.ceil(dim / 8),
    imageRoot: o.imageRoot,
    source: o.source,
    exactBelow: o.exactBelow,
    files: [],
    hnsw: [],
    lance: {
      table: LANCE_TABLE,
      index: ann,
      query,
      recallAt10: quality?.recallAt10 ?? null,
      recallQueries: quality?.queries ?? 0,
      selfHits: quality?.selfHits ?? null,
      tableVersion: await table.version(),
    },
    ...(o.wal ? { wal: o.wal } : {}),
  };
  table.close();
  faultPoint('index-build:before-manifest');
  writeFileAtomic(join(dir, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`, {
    fault: 'index-build:write-manifest',
  });
  faultPoint('index-build:after-manifest');
  removeManifestTemps(dir);
  return manifest;
}
