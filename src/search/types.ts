// The visual-search contract shared by the index (build, open, search), the search CLI and the HTTP
// service. An index is a folder (format in docs/index-format.md); opening it gives a VisualSearchIndex.
import type { ImageKind } from '../data/image/image-kind.js';
import type { InputSpec } from '../nn/input-spec.js';
import type { PartHealth } from '../util/supervised-worker.js';

export type { PartHealth };

export type SearchMode = 'float' | 'binary' | 'rerank';
export type VectorPrecision = 'f32' | 'f16' | 'i8';
/** The backends an index folder can use (src/search/backends.ts has one row for each). */
export const INDEX_BACKENDS = ['usearch', 'lancedb'] as const;
export type IndexBackend = (typeof INDEX_BACKENDS)[number];

/** Who made the vectors: queries must be embedded by the same model and pipeline. */
export interface EmbedderIdentity {
  /** SHA-256 of the checkpoint / weights file, or null when vectors came from elsewhere (--embeddings). */
  checkpointSha256: string | null;
  /** The checkpoint path as given at build time (for serve/search --image to load it again). */
  checkpointPath: string | null;
  arch: string | null;
  dim: number;
  input: InputSpec | null;
  /** The eval pipeline: resize then centre crop (0 = none). */
  resize: number;
  crop: number;
  /**
   * JPEGs decoded at reduced size where that still covers the resize (Pillow's draft; `index build
   * --jpeg-draft`); queries are decoded the same way. Absent: whole (indexes before it, and the default).
   */
  jpegDraft?: true;
}

/** An item's own fields, given when it is put into a live index: `where` tests them as meta.NAME. */
export type MetaValue = string | number | boolean;
export type ItemFields = Record<string, MetaValue>;

export interface ItemMeta {
  /** Unique within the index: the path relative to the image root, the CSV/dataset path, or the row number. */
  id: string;
  /**
   * Relative to the index's image root (never absolute, never with ".."); null when unknown. For an image
   * put into a live index (`stored`): relative to the index folder (files/ab/<sha256>.<ext>).
   */
  path: string | null;
  label: string | null;
  /** File size in bytes and SHA-256 of the file's content, for incremental rebuilds; null when unknown. */
  size: number | null;
  hash: string | null;
  /** Fields given with a live put (absent: none). */
  meta?: ItemFields;
  /** The image was put into the index and is stored in its folder (IDX/files/), not under the image root. */
  stored?: true;
}

export interface SearchHit {
  id: string;
  path: string | null;
  label: string | null;
  /** The item's fields (only for items that have some). */
  meta?: ItemFields;
  /** Cosine similarity for float and rerank; bits in common (dim - Hamming distance) for binary. */
  score: number;
}

export interface SearchRequest {
  k: number;
  mode: SearchMode;
  /** Exact search even when an HNSW index exists. */
  exact?: boolean;
  /** Rerank: Hamming candidates = oversample * k, re-scored with the float vectors (default 4). */
  oversample?: number;
  /** A filter on the metadata, e.g. "label = 'sandal'" (the same syntax for both backends). */
  where?: string;
  /** Stop a search that runs longer (a filter's scan) with a SearchTimeoutError; default no limit. */
  timeoutMs?: number;
  /** HNSW search beam (1-4096) for this search; default the index's (openIndex's ef, else the build's). */
  ef?: number;
}

export interface IndexStats {
  items: number;
  dim: number;
  precision: VectorPrecision;
  backend: IndexBackend;
  /** The build generation of the manifest (increases with every build). */
  generation: number;
  /** Whether an HNSW (approximate) index is used by default for float / binary search. */
  hnsw: { float: boolean; binary: boolean };
  bytesOnDisk: number;
}

/** How a live index stands (docs/index-format.md, "The live index"). */
export interface LiveStats {
  /** Opened for writing (the process holds the folder's writer lock). */
  writable: boolean;
  /** Items put since the generation files were written, and the base rows they replaced or deleted. */
  deltaItems: number;
  tombstones: number;
  /** The last log record the generation files include, and the last record of the log. */
  appliedSeq: number;
  lastSeq: number;
  /** Since this process opened the index: puts and deletes made durable, log bytes and batches, compactions. */
  puts: number;
  deletes: number;
  walBytes: number;
  walBatches: number;
  compactions: number;
  compacting: boolean;
}

export interface PutResult {
  /** False: the id was in the index, and its item is replaced. */
  created: boolean;
  item: ItemMeta;
}

export interface CompactReport {
  generation: number;
  items: number;
  /** Puts and tombstones folded into the new generation. */
  folded: number;
  seconds: number;
  /** What the compaction did, one line each (graphs extended or rebuilt, recall). */
  lines: string[];
}

/** An image stored under IDX/files/ for a put, held (kept by compactions) until `release` is called. */
export interface HeldImage {
  /** Relative to the index folder. */
  path: string;
  hash: string;
  size: number;
  /** Call once the put naming it has resolved or failed. */
  release(): void;
}

/** The writes of an index opened writable. Each resolves once its write is durable (in the log, fsynced). */
export interface IndexWriter {
  /** Creates or replaces the item `item.id`; vector: dim values (stored at unit length). */
  put(item: ItemMeta, vector: Float32Array): Promise<PutResult>;
  /** Deletes an item; false (and nothing written) when there is none. */
  remove(id: string): Promise<boolean>;
  /** Folds the log into a new generation (null: nothing to fold). */
  compact(): Promise<CompactReport | null>;
  /** Stores an image's bytes in the index folder (content-addressed, durable when it resolves), held. */
  storeImage(bytes: Uint8Array, kind: ImageKind): Promise<HeldImage>;
}

export interface VisualSearchIndex {
  readonly dir: string;
  readonly embedder: EmbedderIdentity;
  /** Absolute image root, or null when items have no files. */
  readonly imageRoot: string | null;
  stats(): IndexStats;
  item(id: string): ItemMeta | undefined;
  /** The stored float vector of an item (dequantised), unit length. */
  vectorOf(id: string): Float32Array | undefined;
  /** One result list per query vector (each of length dim); never blocks the event loop for long. */
  search(queries: readonly Float32Array[], request: SearchRequest): Promise<SearchHit[][]>;
  /** The absolute path of an item's image, checked to lie inside the image root; null otherwise. */
  imageFile(id: string): string | null;
  /** The folder an item's image must lie in (the image root, or the index's files/); default imageRoot. */
  imageRootOf?(id: string): string | null;
  /** A live index: its delta, log and writes (absent: an index that cannot change). */
  live?(): LiveStats;
  /** Present when the index was opened for writing. */
  readonly writer?: IndexWriter;
  /** How the index's search worker stands (absent: nothing that can die, e.g. LanceDB in this thread). */
  health?(): PartHealth;
  close(): Promise<void>;
}

/** Embeds query images (encoded bytes: JPEG/PNG/WebP...) with the index's embedder, off the main thread. */
export interface QueryEmbedder {
  readonly dim: number;
  /** One unit-length vector per image, in order; rejects with a BadImageError-like InputError per bad image. */
  embed(images: readonly Uint8Array[]): Promise<Float32Array[]>;
  /** How the embedder's worker stands (absent: nothing that can die). */
  health?(): PartHealth;
  close(): Promise<void>;
}
