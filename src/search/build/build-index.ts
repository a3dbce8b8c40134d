// `index build`: lists the source's items, reuses the vectors of unchanged items of an existing index
// (same id, size and content hash, same embedder and precision), embeds the rest in chunks whose results
// are kept in IDX/.partial (an interrupted build resumes there), then writes the index atomically. The
// whole build holds the folder's writer lock (IDX/.lock): a second writer is refused.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BadImageError } from '../../data/image/bad-image-error.js';
import type { Sample } from '../../data/types.js';
import { fsyncDir } from '../../io/atomic.js';
import { acquireWriterLock, type WriterLock } from '../../io/writer-lock.js';
import { resamplingOf } from '../../nn/input-spec.js';
import { UsageError } from '../../util/errors.js';
import { createProgress } from '../../util/progress.js';
import type { SearchBackend, StoredContent } from '../backend.js';
import { BACKENDS } from '../backends.js';
import { packCodes } from '../binary-codes.js';
import type { GraphSettings } from '../graph-settings.js';
import { logAfter } from '../live/replay.js';
import { WAL_DIR } from '../live/wal.js';
import { MANIFEST_NAME, type Manifest, readManifest, type WalInfo } from '../manifest.js';
import { normaliseRows } from '../precision.js';
import type { EmbedderIdentity, IndexBackend, ItemMeta, VectorPrecision } from '../types.js';
import type { ItemEmbedder } from './item-embedder.js';
import { hashItems } from './item-hash.js';
import { PartialEmbeddings } from './partial.js';
import type { ListedSource } from './sources.js';

export interface BuildOptions {
  out: string;
  precision: VectorPrecision;
  /** Where the index lives (default usearch: the folder's own files; lancedb: a Lance table). */
  backend?: IndexBackend;
  exactBelow: number;
  /** The HNSW graph's M and efConstruction (absent: the previous build's, else the backend's default). */
  graph?: GraphSettings;
  skipBadImages: boolean;
  /** Required unless the source has its vectors. */
  embedder: ItemEmbedder | null;
  /** Items per embedding chunk (progress is saved after each). */
  chunkSize?: number;
  silent?: boolean;
  log?: (line: string) => void;
  /** The writer lock of `out`, when the caller holds it already (the CLI takes it before loading the model). */
  lock?: WriterLock;
}

export interface BuildReport {
  manifest: Manifest;
  items: number;
  /** Items embedded by this run (not reused from the index or from an interrupted run). */
  embedded: number;
  reused: number;
  resumed: number;
  removed: number;
  skipped: string[];
}

interface OldIndex {
  rowOf: Map<string, number>;
  items: ItemMeta[];
  vectors: Float32Array;
  codes: Uint8Array;
}

function compatible(m: Manifest, e: EmbedderIdentity, precision: VectorPrecision): string | null {
  if (m.embedder.checkpointSha256 === null || m.embedder.checkpointSha256 !== e.checkpointSha256)
    return 'another embedder';
  if (m.dim !== e.dim || m.embedder.resize !== e.resize || m.embedder.crop !== e.crop) return 'another pipeline';
  const [was, now] = [resamplingOf(m.embedder.input), resamplingOf(e.input)];
  if (was.mode !== now.mode || was.filter !== now.filter) return 'another pipeline';
  if ((m.embedder.jpegDraft ?? false) !== (e.jpegDraft ?? false))
    return m.embedder.jpegDraft ? 'draft JPEG decoding (--jpeg-draft)' : 'full-size JPEG decoding (no --jpeg-draft)';
  if (m.precision !== precision) return `precision ${m.precision}`;
  return null;
}

/**
 * An index folder keeps its backend: building another one over it is a usage error; so is a precision
 * the backend does not store (refused before anything is embedded).
 */
function checkBackend(out: string, name: IndexBackend, precision: VectorPrecision): void {
  const backend = BACKENDS[name];
  if (existsSync(join(out, MANIFEST_NAME))) {
    let was: IndexBackend | null;
    try {
      was = readManifest(out).backend;
    } catch {
      was = null;
    }
    if (was !== null && was !== name)
      throw new UsageError(`--backend ${name}: ${out} holds a ${was} index (use --backend ${was} or a new folder)`);
  }
  if (!backend.precisions.includes(precision))
    throw new UsageError(
      `--precision ${precision}: the ${name} backend stores ${backend.precisions.join(', ')} vectors`,
    );
}

async function readOld(
  out: string,
  identity: EmbedderIdentity,
  precision: VectorPrecision,
  log: (l: string) => void,
  backend: SearchBackend,
): Promise<OldIndex | null> {
  if (!existsSync(join(out, MANIFEST_NAME))) return null;
  let a: StoredContent;
  try {
    a = await backend.readContent(out);
  } catch (e) {
    log(`the existing index cannot be reused (${(e as Error).message}); embedding every item`);
    return null;
  }
  const why = compatible(a.manifest, identity, precision);
  if (why) {
    log(`the existing index was built with ${why}; embedding every item`);
    return null;
  }
  return { rowOf: new Map(a.items.map((it, i) => [it.id, i])), items: a.items, vectors: a.vectors, codes: a.codes };
}

export async function buildIndex(source: ListedSource, o: BuildOptions): Promise<BuildReport> {
  if (o.lock && (!o.lock.held || o.lock.dir !== resolve(o.out)))
    throw new Error(`buildIndex: the lock given is not a held lock of ${o.out}`);
  const lock = o.lock ?? acquireWriterLock(o.out, 'index build');
  try {
    return await buildLocked(source, o);
  } finally {
    // A build that failed before writing anything leaves no folder behind (the lock removes one it created).
    if (!o.lock) lock.release();
  }
}

/**
 * A live index's log (docs/index-format.md, "The live index"): the build's content supersedes every record
 * in it (its items are the source's; reuse sees the logged vectors), so the manifest it writes says so and
 * the segments go once it is written. Undefined for an index never written live.
 */
function foldedLog(out: string): WalInfo | undefined {
  if (!existsSync(join(out, MANIFEST_NAME))) return undefined;
  let m: Manifest;
  try {
    m = readManifest(out);
  } catch {
    return undefined;
  }
  return m.wal === undefined ? undefined : { appliedSeq: logAfter(out, m).lastSeq };
}

function dropLog(out: string, wal: WalInfo | undefined): void {
  if (wal === undefined) return;
  const walDir = join(out, WAL_DIR);
  if (!existsSync(walDir)) return;
  for (const name of readdirSync(walDir)) rmSync(join(walDir, name), { force: true });
  fsyncDir(walDir);
}

async function buildLocked(source: ListedSource, o: BuildOptions): Promise<BuildReport> {
  const log = o.log ?? (() => {});
  const name = o.backend ?? 'usearch';
  checkBackend(o.out, name, o.precision);
  const backend = BACKENDS[name];
  const wal = foldedLog(o.out);
  if (source.vectors) {
    const { data, dim } = source.vectors;
    const vectors = normaliseRows(data.slice(), dim);
    const items = source.items.map((it) => ({ id: it.id, path: it.path, label: it.label, size: null, hash: null }));
    const embedder: EmbedderIdentity = {
      checkpointSha256: null,
      checkpointPath: null,
      arch: null,
      dim,
      input: null,
      resize: 0,
      crop: 0,
    };
    const manifest = await backend.write(
      o.out,
      { items, dim, vectors },
      { ...o, embedder, imageRoot: source.imageRoot, source: source.info, onStatus: log, ...(wal ? { wal } : {}) },
    );
    dropLog(o.out, wal);
    return { manifest, items: items.length, embedded: 0, reused: 0, resumed: 0, removed: 0, skipped: [] };
  }
  const embedder = o.embedder;
  if (!embedder || !source.dataset) throw new Error('buildIndex: a source without vectors needs an embedder');
  const identity = embedder.identity;
  const dim = identity.dim;
  const metas = await hashItems(source.items, source.dataset, { silent: o.silent });
  const old = await readOld(o.out, identity, o.precision, log, backend);
  const partial = new PartialEmbeddings(
    o.out,
    {
      checkpointSha256: identity.checkpointSha256,
      dim,
      resize: identity.resize,
      crop: identity.crop,
      ...(identity.jpegDraft ? { jpegDraft: true } : {}),
    },
    log,
  );

  const n = metas.length;
  const rowVector: (Float32Array | null)[] = new Array(n).fill(null);
  const rowCode: (Uint8Array | null)[] = new Array(n).fill(null);
  const bytes = Math.ceil(dim / 8);
  let reused = 0;
  let resumed = 0;
  const pending: number[] = [];
  metas.forEach((m, i) => {
    const r = old?.rowOf.get(m.id);
    const before = r === undefined ? undefined : old?.items[r];
    if (old && r !== undefined && before && m.hash !== null && before.hash === m.hash && before.size === m.size) {
      rowVector[i] = old.vectors.subarray(r * dim, (r + 1) * dim);
      rowCode[i] = old.codes.subarray(r * bytes, (r + 1) * bytes);
      reused++;
      return;
    }
    const done = m.hash === null ? undefined : partial.get(m.id, m.hash);
    if (done) {
      rowVector[i] = done;
      resumed++;
    } else pending.push(i);
  });
  if (reused + resumed > 0)
    log(`reusing ${reused} unchanged items${resumed > 0 ? ` and ${resumed} embedded by an interrupted build` : ''}`);

  const skipped: string[] = [];
  const chunkSize = o.chunkSize ?? 512;
  const progress = createProgress({
    label: 'embedding',
    total: pending.length,
    silent: o.silent || pending.length === 0,
  });
  const started = Date.now();
  let embedded = 0;
  try {
    for (let s = 0; s < pending.length; s += chunkSize) {
      let chunk = pending.slice(s, s + chunkSize);
      for (;;) {
        const samples = chunk.map((i) => source.items[i]?.sample as Sample);
        try {
          const v = chunk.length === 0 ? new Float32Array(0) : await embedder.embed(source.dataset, samples);
          normaliseRows(v, dim);
          partial.append(
            chunk.map((i) => metas[i] as ItemMeta),
            v,
          );
          chunk.forEach((i, j) => {
            rowVector[i] = v.subarray(j * dim, (j + 1) * dim);
          });
          embedded += chunk.length;
          break;
        } catch (e) {
          if (!(e instanceof BadImageError) || !o.skipBadImages) throw e;
          // Leave the bad image out and embed the rest of the chunk again.
          const bad = e.path;
          skipped.push(bad);
          log(`skipping ${e.message}`);
          chunk = chunk.filter((i) => source.items[i]?.sample?.path !== bad);
        }
      }
      const done = Math.min(s + chunkSize, pending.length);
      progress.update(done, {
        // text: the progress line prints numbers with 4 decimals
        'images/s': (embedded / Math.max(1e-3, (Date.now() - started) / 1000)).toFixed(1),
      });
    }
    progress.stop();
  } catch (e) {
    progress.stop();
    // A bad image stops the build with nothing written: no progress kept (and, once the lock is released,
    // no folder left behind if the build created it).
    if (e instanceof BadImageError) partial.remove();
    throw e;
  }

  const keep = metas.map((_, i) => i).filter((i) => rowVector[i] !== null);
  const items = keep.map((i) => metas[i] as ItemMeta);
  const vectors = new Float32Array(keep.length * dim);
  const codes = new Uint8Array(keep.length * bytes);
  keep.forEach((i, j) => {
    const v = rowVector[i] as Float32Array;
    vectors.set(v, j * dim);
    codes.set(rowCode[i] ?? packCodes(v, dim), j * bytes);
  });
  const ids = new Set(items.map((it) => it.id));
  const removed = old ? old.items.filter((it) => !ids.has(it.id)).length : 0;
  const manifest = await backend.write(
    o.out,
    { items, dim, vectors, codes },
    {
      ...o,
      embedder: identity,
      imageRoot: source.imageRoot,
      source: source.info,
      onStatus: log,
      ...(wal ? { wal } : {}),
    },
  );
  dropLog(o.out, wal);
  partial.remove();
  return { manifest, items: items.length, embedded, reused, resumed, removed, skipped };
}
