// The seam between src/search and a search backend (usearch/, lancedb/): what every backend does for an
// index folder (SearchBackend), and what passes through it. backends.ts holds the one table of them, keyed
// by the manifest's `backend`.
import type { WriterLock } from '../io/writer-lock.js';
import type { GraphSettings } from './graph-settings.js';
import type { Manifest, SourceInfo, WalInfo } from './manifest.js';
import type { EmbedderIdentity, ItemMeta, VectorPrecision, VisualSearchIndex } from './types.js';

export const DEFAULT_EXACT_BELOW = 50_000;

/** What a build writes: the items, their vectors and (optionally) their codes. */
export interface IndexContent {
  items: ItemMeta[];
  dim: number;
  /** n x dim row-major, unit length, full precision. */
  vectors: Float32Array;
  /** Packed codes of the items (default: bit = x > 0 of the vectors; an incremental build keeps old ones). */
  codes?: Uint8Array;
}

export interface WriteOptions {
  precision: VectorPrecision;
  /** Above this many items an approximate index is built; at or below it, search is exact. */
  exactBelow: number;
  embedder: EmbedderIdentity;
  imageRoot: string | null;
  source: SourceInfo;
  /** One line per step (approximate index, recall) for the CLI. */
  onStatus?: (line: string) => void;
  /** A live index's write-ahead log position that the written content includes (the manifest's `wal`). */
  wal?: WalInfo;
  /** The HNSW graph's M and efConstruction (absent: the previous build's, else the backend's default). */
  graph?: GraphSettings;
}

/** The content of an existing index, for an incremental build to reuse. */
export interface StoredContent {
  manifest: Manifest;
  items: ItemMeta[];
  /** n x dim row-major, as stored (dequantised, not renormalised). */
  vectors: Float32Array;
  /** n x codeBytes packed codes. */
  codes: Uint8Array;
}

export interface OpenIndexOptions {
  /** Where a restart of a search worker (and a live index's compactions) is reported (default stderr). */
  log?: (line: string) => void;
  /**
   * Open for writing (a live index: docs/index-format.md): the folder's writer lock, which the caller holds
   * for as long as the index is open, and the delta size above which it compacts in the background.
   */
  writer?: { lock: WriterLock; compactAbove?: number };
  /**
   * The HNSW search beam (expansion) of every search that does not name its own (default: the one the
   * index was built with). More finds more of the true neighbours, at a cost in time.
   */
  ef?: number;
}

export interface SearchBackend {
  /** The precisions it stores vectors at (index build refuses another before it embeds anything). */
  readonly precisions: readonly VectorPrecision[];
  /** Writes an index folder, or updates the one there; the caller holds the folder's writer lock. */
  write(dir: string, content: IndexContent, o: WriteOptions): Promise<Manifest>;
  /** Opens a folder whose manifest names this backend. */
  open(dir: string, o: OpenIndexOptions): Promise<VisualSearchIndex>;
  /** The content of an index folder of this backend, checked as open checks it (incremental builds). */
  readContent(dir: string): Promise<StoredContent>;
  /**
   * The base rows of those of `ids` that the index's generation holds (its items read, not its vectors):
   * with the log, the live item count `index info` prints.
   */
  rowsOfIds(dir: string, m: Manifest, ids: ReadonlySet<string>): Promise<Map<string, number>>;
  /** `index info --verify`: throws an InputError naming what does not match the manifest. */
  verify(dir: string, m: Manifest): Promise<void>;
  /** Bytes of the index's data on disk, besides manifest.json (`index info`). */
  dataBytes(dir: string, m: Manifest): number;
  /** What `index build` prints after its summary: the approximate index's measured recall. */
  builtLines(m: Manifest): string[];
  /** The rows `index info` shows for the backend's own part of the manifest. */
  infoRows(m: Manifest): [string, string][];
}
