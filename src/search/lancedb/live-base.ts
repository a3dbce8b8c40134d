// The base of a live LanceDB index (../live/live-index.ts): the Lance table checked out at the version the
// manifest names (read-only: a compaction's commits are not seen until the switch), with the metadata and
// unit vectors in memory as the backend always held them (item() and vectorOf() are synchronous; scores
// are recomputed from the vectors). The delta is searched in an engine worker of its own (a usearch engine
// over no base rows, ../usearch/live-engine.ts), so that exact search over it never runs on the event loop;
// the table is searched for k plus the tombstones, hidden rows left out, and the two merged. A compaction
// writes through a second handle with LanceDB's own operations: mergeInsert of the puts on id (replaced
// rows updated, new ones inserted), delete of the deleted ids, optimize (new rows into the ANN index),
// then the manifest pins the new version (the LiveIndex writes it).
import { join } from 'node:path';
import { connect, type Table as LanceTable } from '@lancedb/lancedb';
import { FailureError } from '../../util/errors.js';
import type { PartHealth } from '../../util/supervised-worker.js';
import { packCodes } from '../binary-codes.js';
import { type CompactionLayout, compactionLayout, sourcesOf } from '../live/layout.js';
import type { LiveBase, LiveBaseHits, LiveQuery, Snapshot } from '../live/live-index.js';
import type { Manifest } from '../manifest.js';
import { sampleRows } from '../recall-sample.js';
import type { RowHits } from '../rescore.js';
import type { IndexStats, ItemMeta } from '../types.js';
import type { EngineClient } from '../usearch/engine-client.js';
import { LANCE_DIR, type LanceManifest } from './layout.js';
import { keepManifestVersion } from './pinned-table.js';
import { binaryQuery, floatQuery, type LanceQueryContext, rerankQuery } from './query.js';
import { indexConfig, type LanceQuerySettings, TUNED_INDEX } from './settings.js';
import { itemsTable, liveFields, VECTOR_COLUMN } from './table-data.js';
import { deleteIds, hasLiveColumns } from './table-io.js';
import { whereToSql } from './where-sql.js';
import { measureAnn } from './write.js';

/** Item vectors a compaction measures the ANN index's recall@10 with. */
const COMPACT_RECALL_QUERIES = 200;

interface Scored {
  row: number;
  score: number;
  fields: LiveBaseHits['items'][number];
}

const byScoreThenRow = (a: Scored, b: Scored) => b.score - a.score || a.row - b.row;

export interface LanceBaseContent {
  items: ItemMeta[];
  /** n x dim unit vectors. */
  vectors: Float32Array;
}

export class LanceBase implements LiveBase {
  readonly dir: string;
  readonly manifest: LanceManifest;
  readonly n: number;
  readonly #table: LanceTable;
  readonly #items: readonly ItemMeta[];
  readonly #vectors: Float32Array;
  readonly #rowOf: Map<string, number>;
  readonly #live: boolean;
  readonly #engine: EngineClient;
  readonly #query: LanceQuerySettings;
  readonly #bytes: () => number;
  #inFlight = 0;

  constructor(
    dir: string,
    manifest: LanceManifest,
    table: LanceTable,
    content: LanceBaseContent,
    live: boolean,
    engine: EngineClient,
    bytes: () => number,
  ) {
    this.dir = dir;
    this.manifest = manifest;
    this.n = content.items.length;
    this.#table = table;
    this.#items = content.items;
    this.#vectors = content.vectors;
    this.#rowOf = new Map(content.items.map((it, i) => [it.id, i]));
    this.#live = live;
    this.#engine = engine;
    this.#query = manifest.lance.query;
    this.#bytes = bytes;
  }

  get delta(): EngineClient {
    return this.#engine;
  }

  get hnsw(): IndexStats['hnsw'] {
    return { float: this.manifest.lance.index !== null, binary: false };
  }

  item(row: number): ItemMeta {
    return this.#items[row] as ItemMeta;
  }

  rowOf(id: string): number | undefined {
    return this.#rowOf.get(id);
  }

  vector(row: number): Float32Array {
    const dim = this.manifest.dim;
    return this.#vectors.slice(row * dim, (row + 1) * dim);
  }

  bytesOnDisk(): number {
    return this.#bytes();
  }

  health(): PartHealth {
    return this.#engine.health();
  }

  async search(flat: Float32Array, nq: number, q: LiveQuery, hidden: ReadonlySet<number>): Promise<LiveBaseHits[]> {
    this.#inFlight++;
    try {
      return await this.#search(flat, nq, q, hidden);
    } finally {
      this.#inFlight--;
    }
  }

  async #search(flat: Float32Array, nq: number, q: LiveQuery, hidden: ReadonlySet<number>): Promise<LiveBaseHits[]> {
    // The delta's search is sent first: it meets the worker's delta as it is now (a switch sends another).
    const deltaHits = this.#engine.search(flat, nq, q);
    const dim = this.manifest.dim;
    const where = q.where === null ? undefined : whereToSql(q.where, { hasMeta: this.#live });
    const c: LanceQueryContext = {
      table: this.#table,
      dim,
      vectors: this.#vectors,
      rowOf: this.#rowOf,
      ann:
        this.manifest.lance.index !== null && !q.exact
          ? { ...this.#query, ...(q.ef !== null ? { ef: q.ef } : {}) }
          : null,
    };
    const k = q.k + hidden.size;
    const one = (query: Float32Array): Promise<RowHits> => {
      if (q.mode === 'float') return floatQuery(c, query, k, where);
      const code = packCodes(query, dim);
      return q.mode === 'binary' ? binaryQuery(c, code, k, where) : rerankQuery(c, query, code, k, q.oversample, where);
    };
    const base = await Promise.all(Array.from({ length: nq }, (_, i) => one(flat.subarray(i * dim, (i + 1) * dim))));
    const delta = await deltaHits;
    return base.map((b, i) => {
      const hits: Scored[] = [];
      b.rows.forEach((row, j) => {
        if (!hidden.has(row)) hits.push({ row, score: b.scores[j] as number, fields: null });
      });
      const d = delta[i];
      d?.rows.forEach((slot, j) => {
        hits.push({ row: this.n + slot, score: d.scores[j] as number, fields: d.items[j] ?? null });
      });
      hits.sort(byScoreThenRow);
      const top = hits.slice(0, q.k);
      return {
        rows: Int32Array.from(top, (h) => h.row),
        scores: Float32Array.from(top, (h) => h.score),
        items: top.map((h) => h.fields),
      };
    });
  }

  async compact(s: Snapshot): Promise<{ next: LiveBase; manifest: Manifest; lines: string[] }> {
    const m = this.manifest;
    const dim = m.dim;
    const db = await connect(join(this.dir, LANCE_DIR));
    const table = await db.openTable(m.lance.table);
    try {
      const at = await table.version();
      if (at < m.lance.tableVersion)
        throw new FailureError(
          `compaction: the Lance table of ${this.dir} is at version ${at}, before the index's ${m.lance.tableVersion}`,
        );
      // Ahead: an earlier compaction of this process failed after a commit (this process holds the lock).
      if (at > m.lance.tableVersion) {
        await table.checkout(m.lance.tableVersion);
        await table.restore();
      }
      const lines: string[] = [];
      if (!(await hasLiveColumns(table))) await table.addColumns(liveFields());
      const layout = compactionLayout(this.n, s.hidden, s.puts.length);
      const putVectors = new Float32Array(s.puts.length * dim);
      s.puts.forEach((p, i) => {
        putVectors.set(p.vector, i * dim);
      });
      const putItems = s.puts.map((p) => p.item);
      if (putItems.length > 0) {
        const rows = itemsTable(putItems, dim, putVectors, packCodes(putVectors, dim), true);
        await table
          .mergeInsert('id')
          .whenMatchedUpdateAll()
          .whenNotMatchedInsertAll()
          .execute(rows as never);
      }
      const putIds = new Set(putItems.map((it) => it.id));
      const gone = Array.from(s.hidden, (r) => (this.#items[r] as ItemMeta).id).filter((id) => !putIds.has(id));
      await deleteIds(table, gone);
      const content = this.#laidOut(layout, s, putVectors);
      let index = m.lance.index;
      let quality: Awaited<ReturnType<typeof measureAnn>> | null = null;
      if (index !== null || layout.n > m.exactBelow) {
        if (index !== null) await table.optimize(await keepManifestVersion(table, m.lance.tableVersion));
        else {
          index = TUNED_INDEX;
          await table.createIndex(VECTOR_COLUMN, { config: indexConfig(index), replace: true });
        }
        const c: LanceQueryContext = {
          table,
          dim,
          vectors: content.vectors,
          rowOf: new Map(content.items.map((it, i) => [it.id, i])),
          ann: m.lance.query,
        };
        quality = await measureAnn(c, m.lance.query, sampleRows(layout.n, COMPACT_RECALL_QUERIES));
        lines.push(
          `lancedb ${index.kind} ${m.lance.index ? 'optimized' : 'built'}, recall@10 ${quality.recallAt10.toFixed(4)}`,
        );
      }
      const version = await table.version();
      const manifest: LanceManifest = {
        ...m,
        updatedAt: new Date().toISOString(),
        generation: m.generation + 1,
        items: layout.n,
        lance: {
          ...m.lance,
          index,
          tableVersion: version,
          ...(quality
            ? { recallAt10: quality.recallAt10, recallQueries: quality.queries, selfHits: quality.selfHits }
            : {}),
        },
      };
      const reader = await db.openTable(m.lance.table);
      await reader.checkout(version);
      const next = new LanceBase(this.dir, manifest, reader, content, true, this.#engine, this.#bytes);
      return { next, manifest, lines };
    } finally {
      table.close();
    }
  }

  /** The next base's items and vectors, laid out as the compaction's layout says (rows of this base kept). */
  #laidOut(layout: CompactionLayout, s: Snapshot, putVectors: Float32Array): LanceBaseContent {
    const dim = this.manifest.dim;
    const src = sourcesOf(this.n, layout);
    const vectors = new Float32Array(layout.n * dim);
    const items = Array.from(src, (from, r) => {
      if (from >= 0) {
        vectors.set(this.#vectors.subarray(from * dim, (from + 1) * dim), r * dim);
        return this.#items[from] as ItemMeta;
      }
      const p = -from - 1;
      vectors.set(putVectors.subarray(p * dim, (p + 1) * dim), r * dim);
      return (s.puts[p] as Snapshot['puts'][number]).item;
    });
    return { items, vectors };
  }

  /** After the switch: once its searches are answered, this version's handle closes (not the shared worker). */
  async retire(): Promise<void> {
    while (this.#inFlight > 0) await new Promise((r) => setTimeout(r, 10));
    this.#table.close();
  }

  async close(): Promise<void> {
    this.#table.close();
    await this.#engine.close();
  }
}
