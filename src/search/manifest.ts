// The manifest of an index folder (docs/index-format.md): what the data files are, their sizes and SHA-256,
// who made the vectors, and which approximate (HNSW) indexes exist. Written last, atomically: a folder whose
// manifest names a file is complete.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, InputError } from '../util/errors.js';
import { type EmbedderIdentity, INDEX_BACKENDS, type IndexBackend, type VectorPrecision } from './types.js';

export const INDEX_FORMAT = 'normsoftmax-index';
/** The newest version this normsoftmax reads and writes: 2 adds the live index (`wal`, items with fields). */
export const INDEX_VERSION = 2;
export const MANIFEST_NAME = 'manifest.json';

export type DataRole = 'vectors' | 'scales' | 'codes' | 'items' | 'hnsw-float' | 'hnsw-binary';

export interface DataFile {
  role: DataRole;
  /** A plain file name inside the index folder. */
  name: string;
  bytes: number;
  sha256: string;
}

export interface HnswInfo {
  role: 'hnsw-float' | 'hnsw-binary';
  metric: 'cos' | 'hamming';
  /** usearch's scalar kind of the stored vectors: f32, f16, i8 (float) or b1 (codes). */
  quantization: string;
  /** usearch dimensions: dim for float, codeBytes * 8 bits for binary. */
  dimensions: number;
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
  /** Recall@10 against exact search, measured at build time on `recallQueries` item vectors. */
  recallAt10: number;
  recallQueries: number;
  /** Rows the graph cannot reach from their own vector (usearch bug): searched exactly on every query. */
  orphans?: number[];
}

/** usearch's names: connectivity = M, expansionAdd = efConstruction, expansionSearch = ef. */
export interface HnswParamsInfo {
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
}

export interface SourceInfo {
  kind: 'images' | 'dataset' | 'csv' | 'embeddings';
  /** The flags that named the source, for `index info` and rebuilds. */
  detail: Record<string, string>;
}

/** The live part of an index (version 2): writes since the generation files are in IDX/wal/. */
export interface WalInfo {
  /**
   * Every write-ahead log record up to this sequence number is in the generation files (or the Lance table
   * version); readers apply the records after it.
   */
  appliedSeq: number;
}

export interface Manifest {
  format: typeof INDEX_FORMAT;
  version: number;
  backend: IndexBackend;
  createdAt: string;
  updatedAt: string;
  /** Increases with every build; data file names carry it (g<generation>-...). */
  generation: number;
  embedder: EmbedderIdentity;
  items: number;
  dim: number;
  precision: VectorPrecision;
  /** Bytes per packed binary code: ceil(dim / 8). */
  codeBytes: number;
  imageRoot: string | null;
  source: SourceInfo;
  /** Above this many items HNSW indexes are built; at or below it, search is exact. */
  exactBelow: number;
  files: DataFile[];
  hnsw: HnswInfo[];
  /**
   * The HNSW parameters chosen at build (usearch; `index build --hnsw-m / --hnsw-ef-construction`), kept
   * while the index is too small to have graphs, so that a later build or compaction that makes them uses
   * them. Absent (indexes from before it): the graphs' own, else the defaults.
   */
  graphParams?: HnswParamsInfo;
  /** Present (and `version` 2) once the index has been opened for writing: see WalInfo. */
  wal?: WalInfo;
}

/**
 * The version a manifest is written with: 1 while the index has never been written live (readers of
 * version 1 read it as before), 2 once it has a write-ahead log (an older reader refuses it, naming the
 * version, instead of missing the writes in the log).
 */
export function manifestVersion(m: Pick<Manifest, 'wal'>): number {
  return m.wal === undefined ? 1 : 2;
}

function fail(dir: string, problem: string): never {
  throw new FormatError(join(dir, MANIFEST_NAME), problem);
}

/** Reads and checks the manifest of an index folder (format, version, fields); does not verify checksums. */
export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST_NAME);
  if (!existsSync(dir)) throw new InputError(`index ${dir}: no such folder`);
  if (!existsSync(path))
    throw new InputError(`index ${dir}: no ${MANIFEST_NAME} (not an index, or its build never finished)`);
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Partial<Manifest>;
  } catch (e) {
    fail(dir, `not valid JSON (${(e as Error).message})`);
  }
  if (m === null || typeof m !== 'object') fail(dir, 'expected a JSON object');
  if (m.format !== INDEX_FORMAT) fail(dir, `format is "${String(m.format)}", expected "${INDEX_FORMAT}"`);
  if (typeof m.version !== 'number' || !Number.isInteger(m.version)) fail(dir, 'version is missing');
  if (m.version > INDEX_VERSION) {
    fail(
      dir,
      `index format version ${m.version} is newer than this normsoftmax reads (version ${INDEX_VERSION}): upgrade normsoftmax`,
    );
  }
  if (m.version < 1) fail(dir, `unknown index format version ${m.version}`);
  if (!(INDEX_BACKENDS as readonly unknown[]).includes(m.backend))
    fail(dir, `backend "${String(m.backend)}" is not supported by this build (${INDEX_BACKENDS.join(', ')})`);
  const counts = [m.items, m.dim, m.codeBytes, m.generation, m.exactBelow];
  if (counts.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 0))
    fail(dir, 'items, dim, codeBytes, generation and exactBelow must be non-negative integers');
  if (m.codeBytes !== Math.ceil((m.dim as number) / 8))
    fail(dir, `codeBytes ${m.codeBytes} does not match dim ${m.dim}`);
  if (m.precision !== 'f32' && m.precision !== 'f16' && m.precision !== 'i8')
    fail(dir, `unknown precision "${String(m.precision)}"`);
  if (!Array.isArray(m.files) || !Array.isArray(m.hnsw) || !m.embedder || !m.source)
    fail(dir, 'files, hnsw, embedder and source are required');
  if (m.wal !== undefined) {
    const seq = (m.wal as Partial<WalInfo> | null)?.appliedSeq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
      fail(dir, 'wal.appliedSeq must be a non-negative integer');
    if (m.version < 2) fail(dir, 'a wal section needs version 2');
  }
  if (m.graphParams !== undefined) {
    const g = m.graphParams as Partial<HnswParamsInfo> | null;
    const values = [g?.connectivity, g?.expansionAdd, g?.expansionSearch];
    if (values.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 1))
      fail(dir, 'graphParams needs positive integers connectivity, expansionAdd and expansionSearch');
  }
  for (const f of m.files) {
    if (
      !f ||
      typeof f.name !== 'string' ||
      !/^[A-Za-z0-9._-]+$/.test(f.name) ||
      typeof f.sha256 !== 'string' ||
      !Number.isInteger(f.bytes)
    ) {
      fail(dir, `bad data file entry ${JSON.stringify(f)}`);
    }
  }
  return m as Manifest;
}

/** Bytes of the data files the manifest lists. */
export function filesBytes(m: Manifest): number {
  return m.files.reduce((s, f) => s + f.bytes, 0);
}

/** The data file of a role, or undefined. */
export function fileOf(m: Manifest, role: DataRole): DataFile | undefined {
  return m.files.find((f) => f.role === role);
}

/** Temp files of manifests whose writer was killed (no one else writes here: the caller holds the lock). */
export function removeManifestTemps(dir: string): void {
  for (const name of readdirSync(dir))
    if (name.startsWith(`${MANIFEST_NAME}.tmp-`)) rmSync(join(dir, name), { force: true });
}
