// A live index: a base (the immutable generation a manifest names: usearch's files, or the Lance table at the
// manifest's version) and its write-ahead log (wal.ts) replayed into an in-memory delta (delta.ts), searched
// together. Opened read-only it only reads the log; opened writable (the caller holds the folder's writer
// lock) it appends: puts and deletes are answered once durable (group commit), applied to the delta and sent
// to the search worker before their answer, so that whatever starts after the answer sees them. A
// compaction (background above `compactAbove` delta entries, or asked for) writes the next generation from a
// snapshot of the delta while reads and writes go on, writes its manifest (the switch), then replays the
// writes that came after the snapshot over the new base and removes what the old one used (its files, the
// log segments folded, and the stored images no item names any more: stored-files.ts). Each backend
// gives its base (LiveBase); everything else is the same for both. docs/index-format.md, "The live index".
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ImageKind } from '../../data/image/image-kind.js';
import { writeFileAtomic } from '../../io/atomic.js';
import type { WriterLock } from '../../io/writer-lock.js';
import { InputError, UsageError } from '../../util/errors.js';
import { faultPoint } from '../../util/fault.js';
import type { PartHealth } from '../../util/supervised-worker.js';
import type { FilterFields } from '../filter.js';
import { parseWhere } from '../filter.js';
import { imageFileUnder } from '../image-file.js';
import { MANIFEST_NAME, type Manifest, manifestVersion } from '../manifest.js';
import { checkedRequest, unitQueries } from '../search-checks.js';
import type {
  CompactReport,
  EmbedderIdentity,
  HeldImage,
  IndexStats,
  IndexWriter,
  ItemMeta,
  LiveStats,
  PutResult,
  SearchHit,
  SearchRequest,
  VisualSearchIndex,
} from '../types.js';
import { Delta, type DeltaChange, type DeltaState } from './delta.js';
import {
  FILES_DIR,
  FileHolds,
  removeUnreferencedFiles,
  type SweepReport,
  storedImagePath,
  storeImage,
} from './stored-files.js';
import { type WalContent, WalWriter } from './wal.js';
import type { LiveOp } from './wal-format.js';

/** Above this many delta entries (puts and tombstones) a writable index compacts in the background. */
export const DEFAULT_COMPACT_ABOVE = 10_000;
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 300_000;

/** A search of a live base: the base's rows (hidden ones left out) and the delta's, merged, best first. */
export interface LiveBaseHits {
  rows: Int32Array;
  scores: Float32Array;
  /** The fields of a delta hit (rows >= n); null for a base row. */
  items: (FilterFields | null)[];
}

export interface LiveQuery {
  mode: SearchRequest['mode'];
  k: number;
  exact: boolean;
  oversample: number;
  where: string | null;
  deadline: number | null;
  /** The HNSW search beam; null: the graph's own (the build's). */
  ef: number | null;
}

/** Where the delta is searched: a worker that is sent the whole delta, then each change in order. */
export interface DeltaHolder {
  setDelta(source: () => DeltaState): Promise<void>;
  applyDelta(change: DeltaChange): Promise<void>;
}

export interface Snapshot {
  /** The last log record the snapshot includes. */
  seq: number;
  hidden: Int32Array;
  puts: { item: ItemMeta; vector: Float32Array }[];
}

/** The base of a live index, as a backend opens it. */
export interface LiveBase {
  readonly manifest: Manifest;
  readonly n: number;
  item(row: number): ItemMeta;
  rowOf(id: string): number | undefined;
  /** A copy of a row's unit vector. */
  vector(row: number): Float32Array;
  readonly delta: DeltaHolder;
  /** Whether an approximate index serves float / binary search by default. */
  readonly hnsw: IndexStats['hnsw'];
  search(flat: Float32Array, nq: number, q: LiveQuery, hidden: ReadonlySet<number>): Promise<LiveBaseHits[]>;
  bytesOnDisk(): number;
  health?(): PartHealth;
  /**
   * Writes the next generation from a snapshot (not its manifest: `manifest` is what to write, with the
   * log position filled in by the caller); `next` searches it, with an empty delta.
   */
  compact(s: Snapshot): Promise<{ next: LiveBase; manifest: Manifest; lines: string[] }>;
  /** After the switch to the next base: ends what only this one used (its worker, its files). */
  retire(): Promise<void>;
  close(): Promise<void>;
}

export interface LiveOptions {
  log: (line: string) => void;
  /** Open for writing: the folder's writer lock, held by the caller for as long as the index is open. */
  writer?: { lock: WriterLock; compactAbove?: number };
  /** The HNSW search beam of searches that name none (absent: the graph's own). */
  ef?: number;
}

interface Overlay {
  exists: boolean;
  pending: number;
}

export class LiveIndex implements VisualSearchIndex {
  readonly dir: string;
  #base: LiveBase;
  #delta: Delta;
  /** The log's writes after the base's appliedSeq, in order (replayed over the next base at a switch). */
  #log: LiveOp[];
  #lastSeq: number;
  readonly #o: LiveOptions;
  readonly #walContent: WalContent;
  #wal: WalWriter | null = null;
  #walOpening: Promise<WalWriter> | null = null;
  readonly #overlay = new Map<string, Overlay>();
  #compacting: Promise<CompactReport | null> | null = null;
  /** After a background compaction failed: not before this time (ms), doubling with each failure. */
  #retryAt = 0;
  #failures = 0;
  #closed = false;
  readonly #counts = { puts: 0, deletes: 0, compactions: 0 };
  readonly #holds = new FileHolds();
  readonly writer?: IndexWriter;

  constructor(dir: string, base: LiveBase, wal: WalContent, o: LiveOptions) {
    this.dir = dir;
    this.#base = base;
    this.#o = o;
    this.#walContent = wal;
    this.#log = wal.ops;
    this.#lastSeq = wal.lastSeq;
    this.#delta = new Delta(base);
    this.#delta.apply(wal.ops);
    if (o.writer) {
      this.writer = {
        put: (item, vector) => this.#put(item, vector),
        remove: (id) => this.#remove(id),
        compact: () => this.compact(),
        storeImage: (bytes, kind) => this.#storeImage(bytes, kind),
      };
    }
  }

  /** Sends the delta to the search worker (and to every restart of it); call once before searching. */
  async start(): Promise<void> {
    await this.#base.delta.setDelta(() => this.#delta.state());
    // A writable index whose log exists opens it now: its torn tail, if any, is cut before anything else.
    if (this.#o.writer && this.#base.manifest.wal !== undefined) await this.#openWal();
  }

  get embedder(): EmbedderIdentity {
    return this.#base.manifest.embedder;
  }

  get imageRoot(): string | null {
    const root = this.#base.manifest.imageRoot;
    return root === null ? null : resolve(root);
  }

  stats(): IndexStats {
    const m = this.#base.manifest;
    return {
      items: this.#delta.count,
      dim: m.dim,
      precision: m.precision,
      backend: m.backend,
      generation: m.generation,
      hnsw: this.#base.hnsw,
      bytesOnDisk: this.#base.bytesOnDisk(),
    };
  }

  live(): LiveStats {
    let deltaItems = 0;
    for (const _ of this.#delta.entries) deltaItems++;
    return {
      writable: this.writer !== undefined,
      deltaItems,
      tombstones: this.#delta.hidden.size,
      appliedSeq: this.#base.manifest.wal?.appliedSeq ?? 0,
      lastSeq: this.#lastSeq,
      puts: this.#counts.puts,
      deletes: this.#counts.deletes,
      walBytes: this.#wal?.bytes ?? 0,
      walBatches: this.#wal?.batches ?? 0,
      compactions: this.#counts.compactions,
      compacting: this.#compacting !== null,
    };
  }

  item(id: string): ItemMeta | undefined {
    const e = this.#delta.entry(id);
    if (e) return { ...e.item };
    const row = this.#base.rowOf(id);
    return row === undefined || this.#delta.hidden.has(row) ? undefined : { ...this.#base.item(row) };
  }

  vectorOf(id: string): Float32Array | undefined {
    const e = this.#delta.entry(id);
    if (e) return e.vector.slice();
    const row = this.#base.rowOf(id);
    return row === undefined || this.#delta.hidden.has(row) ? undefined : this.#base.vector(row);
  }

  imageRootOf(id: string): string | null {
    const it = this.item(id);
    if (it?.stored) return this.dir;
    return this.imageRoot;
  }

  imageFile(id: string): string | null {
    const it = this.item(id);
    if (!it) return null;
    return imageFileUnder(it.stored ? this.dir : this.imageRoot, it.path);
  }

  async search(queries: readonly Float32Array[], request: SearchRequest): Promise<SearchHit[][]> {
    const { k, mode, oversample, ef } = checkedRequest(request);
    const dim = this.#base.manifest.dim;
    const flat = new Float32Array(queries.length * dim);
    for (const [i, u] of unitQueries(queries, dim).entries()) flat.set(u, i * dim);
    const where = request.where !== undefined && request.where.trim() !== '' ? request.where : null;
    // A malformed filter is refused here, before the worker is asked (the worker scans the items).
    if (where !== null) parseWhere(where);
    if (queries.length === 0) return [];
    const base = this.#base;
    const hidden = this.#delta.hidden;
    const hits = await base.search(
      flat,
      queries.length,
      {
        mode,
        k,
        exact: request.exact === true,
        oversample,
        where,
        deadline: request.timeoutMs === undefined ? null : Date.now() + request.timeoutMs,
        ef: ef ?? this.#o.ef ?? null,
      },
      hidden,
    );
    return hits.map((h) =>
      Array.from(h.rows, (row, j) => {
        const it = h.items[j] ?? base.item(row);
        const hit: SearchHit = { id: it.id, path: it.path, label: it.label, score: h.scores[j] as number };
        if (it.meta !== undefined) hit.meta = it.meta;
        return hit;
      }),
    );
  }

  health(): PartHealth {
    return this.#base.health?.() ?? { state: 'ok', restarts: 0, lastExit: null };
  }

  // --- writes ---------------------------------------------------------------------------------------

  #exists(id: string): boolean {
    const o = this.#overlay.get(id);
    return o ? o.exists : this.#delta.has(id);
  }

  /** Runs a write with the overlay saying what it leaves (for the status of later writes of the same id). */
  async #enqueue<T>(id: string, exists: boolean, run: () => Promise<T>): Promise<T> {
    let o = this.#overlay.get(id);
    if (!o) {
      o = { exists, pending: 0 };
      this.#overlay.set(id, o);
    }
    o.exists = exists;
    o.pending += 1;
    try {
      return await run();
    } finally {
      o.pending -= 1;
      if (o.pending === 0 && this.#overlay.get(id) === o) this.#overlay.delete(id);
    }
  }

  async #put(item: ItemMeta, vectorIn: Float32Array): Promise<PutResult> {
    this.#writable();
    const vector = unitVector(vectorIn, this.#base.manifest.dim);
    if (item.id.length === 0) throw new InputError('id: expected a non-empty string');
    const created = !this.#exists(item.id);
    const stored: ItemMeta = { ...item };
    await this.#enqueue(item.id, true, async () =>
      (await this.#openWal()).append({ kind: 'put', item: stored, vector }),
    );
    return { created, item: stored };
  }

  async #remove(id: string): Promise<boolean> {
    this.#writable();
    if (!this.#exists(id)) return false;
    await this.#enqueue(id, false, async () => (await this.#openWal()).append({ kind: 'delete', id }));
    return true;
  }

  /** Held from before the store (a compaction's sweep may run meanwhile) until the caller releases it. */
  async #storeImage(bytes: Uint8Array, kind: ImageKind): Promise<HeldImage> {
    this.#writable();
    const at = storedImagePath(bytes, kind);
    const release = this.#holds.hold(at.path);
    try {
      return { ...(await storeImage(this.dir, bytes, kind, at)), release };
    } catch (e) {
      release();
      throw e;
    }
  }

  /**
   * Removes the stored images that nothing names: not an item of the base (hidden rows too), nor a put in
   * the log, nor a write in progress. After a switch, once the new manifest is durable. A failure is logged:
   * the files stay for the next compaction.
   */
  async #sweepFiles(): Promise<SweepReport | null> {
    // An index of vectors alone has no stored images: its items are not even looked at.
    if (!existsSync(join(this.dir, FILES_DIR))) return { files: 0, bytes: 0 };
    try {
      return await this.#holds.sweep((held) => {
        const named = new Set<string>();
        const add = (it: ItemMeta) => {
          if (it.stored && it.path !== null) named.add(it.path);
        };
        const base = this.#base;
        for (let row = 0; row < base.n; row++) add(base.item(row));
        for (const op of this.#log) if (op.kind === 'put') add(op.item);
        return removeUnreferencedFiles(this.dir, (path) => named.has(path) || held(path));
      });
    } catch (e) {
      this.#o.log(
        `removing unreferenced stored images failed: ${e instanceof Error ? e.message : String(e)}; the next compaction tries again`,
      );
      return null;
    }
  }

  #writable(): void {
    if (!this.#o.writer) throw new UsageError(`index ${this.dir} is open read-only`);
    if (this.#closed) throw new UsageError(`index ${this.dir} is closed`);
  }

  #openWal(): Promise<WalWriter> {
    if (this.#wal) return Promise.resolve(this.#wal);
    this.#walOpening ??= (async () => {
      const m = this.#base.manifest;
      if (m.wal === undefined) {
        // The first write makes the index version 2: an older reader refuses it instead of missing the log.
        const next: Manifest = { ...m, wal: { appliedSeq: this.#lastSeq } };
        next.version = manifestVersion(next);
        writeFileAtomic(join(this.dir, MANIFEST_NAME), `${JSON.stringify(next, null, 2)}\n`);
        m.wal = next.wal;
        m.version = next.version;
      }
      const wal = await WalWriter.open(this.dir, this.#walContent, { onDurable: (ops) => this.#applied(ops) });
      this.#wal = wal;
      if (this.#walContent.segments.length > 1) wal.dropThrough(m.wal?.appliedSeq ?? 0);
      return wal;
    })();
    return this.#walOpening;
  }

  /** A durable batch: into the delta and to the search worker, before its writers are answered. */
  #applied(ops: LiveOp[]): void {
    const change = this.#delta.apply(ops);
    for (const op of ops) {
      this.#log.push(op);
      if (op.kind === 'put') this.#counts.puts++;
      else this.#counts.deletes++;
    }
    this.#lastSeq = (ops.at(-1) as LiveOp).seq;
    void this.#base.delta.applyDelta(change);
    const above = this.#o.writer?.compactAbove ?? DEFAULT_COMPACT_ABOVE;
    if (this.#delta.size > above && this.#compacting === null && !this.#closed && Date.now() >= this.#retryAt) {
      this.#o.log(`the delta holds ${this.#delta.size} entries (above ${above}): compacting`);
      this.compact().then(
        (r) => {
          this.#failures = 0;
          this.#retryAt = 0;
          if (r) this.#o.log(compactLine(r));
        },
        (e: unknown) => {
          // Not again at the next batch: a compaction that keeps failing (a full disk) would start one per write.
          const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#failures++);
          this.#retryAt = Date.now() + wait;
          this.#o.log(
            `compaction failed: ${e instanceof Error ? e.message : String(e)}; writes go on, next try in ${wait / 1000} s or by index compact`,
          );
        },
      );
    }
  }

  /** Folds the delta into a new generation; the one running, if one is. */
  compact(): Promise<CompactReport | null> {
    this.#writable();
    this.#compacting ??= this.#compactNow().finally(() => {
      this.#compacting = null;
    });
    return this.#compacting;
  }

  async #compactNow(): Promise<CompactReport | null> {
    const started = Date.now();
    if (this.#delta.size === 0) {
      // Nothing to fold: the stored images a crash left unnamed are still removed.
      const swept = await this.#sweepFiles();
      if (swept && swept.files > 0) this.#o.log(sweepLine(swept));
      return null;
    }
    const wal = await this.#openWal();
    // The cut, between two batches: everything before it is in the snapshot, everything after in a new segment.
    const snap = await wal.barrier(async (): Promise<Snapshot | null> => {
      if (this.#delta.size === 0) return null;
      await wal.rotate();
      const d = this.#delta;
      return {
        seq: this.#lastSeq,
        hidden: Int32Array.from(d.hidden),
        puts: Array.from(d.entries, (e) => ({ item: e.item, vector: e.vector })),
      };
    });
    if (snap === null) return null;
    const old = this.#base;
    const { next, manifest, lines } = await old.compact(snap);
    manifest.wal = { appliedSeq: snap.seq };
    manifest.version = manifestVersion(manifest);
    faultPoint('compact:before-manifest');
    writeFileAtomic(join(this.dir, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
    faultPoint('compact:after-manifest');
    // The switch: the writes after the snapshot, replayed over the new base.
    const after = this.#log.filter((op) => op.seq > snap.seq);
    const delta = new Delta(next);
    delta.apply(after);
    this.#base = next;
    this.#delta = delta;
    this.#log = after;
    await next.delta.setDelta(() => this.#delta.state());
    await old.retire();
    wal.dropThrough(snap.seq);
    this.#counts.compactions++;
    const swept = await this.#sweepFiles();
    return {
      generation: manifest.generation,
      items: delta.count,
      folded: snap.puts.length + snap.hidden.length,
      seconds: (Date.now() - started) / 1000,
      lines: swept && swept.files > 0 ? [...lines, sweepLine(swept)] : lines,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#compacting?.catch(() => undefined);
    await this.#walOpening?.catch(() => undefined);
    await this.#wal?.close();
    await this.#base.close();
  }
}

/** A put's vector at unit length (a copy); an InputError for a wrong length, a zero or non-finite vector. */
function unitVector(v: Float32Array, dim: number): Float32Array {
  if (v.length !== dim) throw new InputError(`vector: expected ${dim} numbers, got ${v.length}`);
  let ss = 0;
  for (const x of v) ss += x * x;
  if (!(ss > 0) || !Number.isFinite(ss)) throw new InputError('vector: expected a non-zero vector of finite numbers');
  const inv = 1 / Math.sqrt(ss);
  return Float32Array.from(v, (x) => x * inv);
}

const sweepLine = (s: SweepReport) =>
  `removed ${s.files} stored image${s.files === 1 ? '' : 's'} no item names (${(s.bytes / 2 ** 20).toFixed(1)} MiB)`;

export function compactLine(r: CompactReport): string {
  return [
    `compacted ${r.folded} delta entries into generation ${r.generation} (${r.items} items) in ${r.seconds.toFixed(1)} s`,
    ...r.lines,
  ].join('; ');
}
