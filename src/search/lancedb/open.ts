// Opens a LanceDB index folder as a VisualSearchIndex, with what LanceDB adds: items added and deleted in
// place (no rebuild: Lance searches rows newer than its ANN index by a flat scan until optimize()), and
// versions (every change is a Lance version; an index opened at an older version is read-only).
// The table is read at the version the manifest names (pinned-table.ts), not its latest. Each add, delete
// or optimize holds the folder's writer lock (or the one the opener holds), refuses a folder another writer
// changed since it was opened, rolls back table versions newer than the manifest's, commits the table and
// then writes the manifest.
//
// The metadata and the unit vectors are also held in memory: the contract's item() and vectorOf() are
// synchronous, and scores are recomputed from the vectors so that both backends score alike.

import { join, resolve } from 'node:path';
import type { Table as LanceTable } from '@lancedb/lancedb';
import { writeFileAtomic } from '../../io/atomic.js';
import { folderBytes } from '../../io/folder-bytes.js';
import { type WriterLock, withWriterLock } from '../../io/writer-lock.js';
import { FailureError, InputError, UsageError } from '../../util/errors.js';
import { packCodes } from '../binary-codes.js';
import { imageFileUnder } from '../image-file.js';
import { MANIFEST_NAME } from '../manifest.js';
import type { RowHits } from '../rescore.js';
import { checkedRequest, unitQueries } from '../search-checks.js';
import type { IndexStats, ItemMeta, SearchHit, SearchRequest, VisualSearchIndex } from '../types.js';
import { type LanceManifest, readLanceManifest } from './layout.js';
import { keepManifestVersion, openPinnedTable, type PinnedTable, rollBack } from './pinned-table.js';
import { binaryQuery, floatQuery, type LanceQueryContext, rerankQuery } from './query.js';
import type { LanceQuerySettings } from './settings.js';
import { addRows, deleteIds, readTable } from './table-io.js';
import { whereToSql } from './where-sql.js';

export interface LanceOpenOptions {
  /** Open the table as it was at this Lance version (read-only). */
  version?: number;
  /** Query settings instead of the manifest's (e.g. LanceDB's defaults, {}, for a benchmark). */
  query?: LanceQuerySettings;
  /**
   * The folder's writer lock, held by this process for as long as the index is open (a writable server);
   * without it, each add, delete or optimize takes the lock for its own duration.
   */
  lock?: WriterLock;
}

export interface LanceVersion {
  version: number;
  timestamp: Date;
  rows: number;
}

export class LanceSearchIndex implements VisualSearchIndex {
  readonly dir: string;
  readonly #m: LanceManifest;
  readonly #table: LanceTable;
  readonly #pinned: PinnedTable;
  readonly #lock: WriterLock | undefined;
  readonly #readOnly: boolean;
  readonly #query: LanceQuerySettings;
  #items: ItemMeta[];
  #vectors: Float32Array;
  #rowOf: Map<string, number>;
  #bytes = 0;

  constructor(
    dir: string,
    m: LanceManifest,
    pinned: PinnedTable,
    content: { items: ItemMeta[]; vectors: Float32Array },
    o: LanceOpenOptions,
  ) {
    this.dir = dir;
    this.#m = m;
    this.#pinned = pinned;
    this.#table = pinned.table;
    this.#lock = o.lock;
    this.#readOnly = o.version !== undefined;
    this.#query = o.query ?? m.lance.query;
    this.#items = content.items;
    this.#vectors = content.vectors;
    this.#rowOf = new Map(content.items.map((it, i) => [it.id, i]));
    this.#bytes = folderBytes(dir);
  }

  get embedder() {
    return this.#m.embedder;
  }

  get imageRoot(): string | null {
    return this.#m.imageRoot === null ? null : resolve(this.#m.imageRoot);
  }

  stats(): IndexStats {
    return {
      items: this.#items.length,
      dim: this.#m.dim,
      precision: 'f32',
      backend: 'lancedb',
      generation: this.#m.generation,
      hnsw: { float: this.#m.lance.index !== null, binary: false },
      bytesOnDisk: this.#bytes,
    };
  }

  item(id: string): ItemMeta | undefined {
    const r = this.#rowOf.get(id);
    return r === undefined ? undefined : { ...(this.#items[r] as ItemMeta) };
  }

  vectorOf(id: string): Float32Array | undefined {
    const r = this.#rowOf.get(id);
    const dim = this.#m.dim;
    return r === undefined ? undefined : this.#vectors.slice(r * dim, (r + 1) * dim);
  }

  async search(queries: readonly Float32Array[], request: SearchRequest): Promise<SearchHit[][]> {
    const { k, mode, oversample, ef } = checkedRequest(request);
    const dim = this.#m.dim;
    const where = request.where !== undefined && request.where.trim() !== '' ? whereToSql(request.where) : undefined;
    const qs = unitQueries(queries, dim);
    const c: LanceQueryContext = {
      table: this.#table,
      dim,
      vectors: this.#vectors,
      rowOf: this.#rowOf,
      ann:
        this.#m.lance.index !== null && request.exact !== true
          ? { ...this.#query, ...(ef !== null ? { ef } : {}) }
          : null,
    };
    const items = this.#items;
    const one = (q: Float32Array): Promise<RowHits> => {
      if (mode === 'float') return floatQuery(c, q, k, where);
      const code = packCodes(q, dim);
      return mode === 'binary' ? binaryQuery(c, code, k, where) : rerankQuery(c, q, code, k, oversample, where);
    };
    const hits = await Promise.all(qs.map(one));
    return hits.map((h) =>
      Array.from(h.rows, (row, j) => {
        const it = items[row] as ItemMeta;
        return { id: it.id, path: it.path, label: it.label, score: h.scores[j] as number };
      }),
    );
  }

  imageFile(id: string): string | null {
    const it = this.item(id);
    return it ? imageFileUnder(this.imageRoot, it.path) : null;
  }

  /** Runs a write under the writer lock, on the folder as it was opened, with the table at its manifest's version. */
  async #write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#readOnly) throw new UsageError(`${what}: the index was opened at an older version (read-only)`);
    const run = async () => {
      const now = readLanceManifest(this.dir).lance.tableVersion;
      if (now !== this.#m.lance.tableVersion)
        throw new FailureError(
          `${what}: index ${this.dir} was changed by another writer since it was opened (table version ${now}, opened at ${this.#m.lance.tableVersion}): open it again`,
        );
      await rollBack(this.#pinned);
      return fn();
    };
    if (!this.#lock) return withWriterLock(this.dir, `lancedb ${what}`, run);
    if (!this.#lock.held || this.#lock.dir !== this.dir)
      throw new Error(`${what}: the lock given to openLanceIndex is not a held lock of ${this.dir}`);
    return run();
  }

  /** Adds items (vectors: n x dim, unit length) without rebuilding anything; ids must be new. */
  add(items: readonly ItemMeta[], vectors: Float32Array): Promise<void> {
    return this.#write('add', () => this.#add(items, vectors));
  }

  async #add(items: readonly ItemMeta[], vectors: Float32Array): Promise<void> {
    const dim = this.#m.dim;
    if (vectors.length !== items.length * dim)
      throw new InputError(`add: ${vectors.length} values for ${items.length} items of dim ${dim}`);
    const seen = new Set<string>();
    for (const it of items) {
      if (this.#rowOf.has(it.id) || seen.has(it.id)) throw new InputError(`add: id "${it.id}" is already in the index`);
      seen.add(it.id);
    }
    const unit = unitQueries(
      items.map((_, i) => vectors.subarray(i * dim, (i + 1) * dim)),
      dim,
    );
    const flat = new Float32Array(items.length * dim);
    for (const [i, u] of unit.entries()) flat.set(u, i * dim);
    await addRows(this.#table, items, dim, flat, packCodes(flat, dim));
    const all = new Float32Array(this.#vectors.length + flat.length);
    all.set(this.#vectors);
    all.set(flat, this.#vectors.length);
    this.#vectors = all;
    for (const it of items) {
      this.#rowOf.set(it.id, this.#items.length);
      this.#items.push({ ...it });
    }
    await this.#saveManifest();
  }

  /** Deletes items by id (unknown ids are ignored); returns how many were deleted. */
  delete(ids: readonly string[]): Promise<number> {
    return this.#write('delete', () => this.#delete(ids));
  }

  async #delete(ids: readonly string[]): Promise<number> {
    const gone = new Set(ids.filter((id) => this.#rowOf.has(id)));
    if (gone.size === 0) return 0;
    await deleteIds(this.#table, [...gone]);
    const dim = this.#m.dim;
    const keep = this.#items.map((it, i) => (gone.has(it.id) ? -1 : i)).filter((i) => i >= 0);
    const vectors = new Float32Array(keep.length * dim);
    for (const [i, r] of keep.entries()) vectors.set(this.#vectors.subarray(r * dim, (r + 1) * dim), i * dim);
    this.#items = keep.map((r) => this.#items[r] as ItemMeta);
    this.#vectors = vectors;
    this.#rowOf = new Map(this.#items.map((it, i) => [it.id, i]));
    await this.#saveManifest();
    return gone.size;
  }

  /** Folds rows added since the ANN index was built into it, and compacts deleted rows. */
  optimize(): Promise<void> {
    return this.#write('optimize', async () => {
      await this.#table.optimize(await keepManifestVersion(this.#table, this.#m.lance.tableVersion));
      await this.#saveManifest();
    });
  }

  version(): Promise<number> {
    return this.#table.version();
  }

  async versions(): Promise<LanceVersion[]> {
    return (await this.#table.listVersions()).map((v) => ({
      version: v.version,
      timestamp: v.timestamp,
      rows: Number(v.metadata.total_rows ?? Number.NaN),
    }));
  }

  async #saveManifest(): Promise<void> {
    const m = this.#m;
    m.items = this.#items.length;
    m.updatedAt = new Date().toISOString();
    m.lance.tableVersion = await this.#table.version();
    this.#pinned.pinned = m.lance.tableVersion;
    this.#pinned.latest = m.lance.tableVersion;
    writeFileAtomic(join(this.dir, MANIFEST_NAME), `${JSON.stringify(m, null, 2)}\n`);
    this.#bytes = folderBytes(this.dir);
  }

  async close(): Promise<void> {
    this.#table.close();
  }
}

export async function openLanceIndex(dirIn: string, o: LanceOpenOptions = {}): Promise<LanceSearchIndex> {
  const dir = resolve(dirIn);
  const m = readLanceManifest(dir);
  const pinned = await openPinnedTable(dir, m);
  const table = pinned.table;
  if (o.version !== undefined) {
    const known = (await table.listVersions()).map((v) => v.version);
    if (!known.includes(o.version)) {
      table.close();
      throw new UsageError(`--version ${o.version}: the index has versions ${known.join(', ')}`);
    }
    await table.checkout(o.version);
  }
  const content = await readTable(table, m.dim);
  return new LanceSearchIndex(dir, m, pinned, content, o);
}
