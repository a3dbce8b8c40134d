// The seam between src/search and a search backend (usearch/, lancedb/): what passes through it.
import type { Manifest, SourceInfo } from './manifest.js';
import type { EmbedderIdentity, ItemMeta, VectorPrecision } from './types.js';

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
  /** Where a restart of a search worker is reported (default stderr). */
  log?: (line: string) => void;
}
