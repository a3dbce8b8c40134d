// The writes of `normsoftmax index add | remove | compact`: the same puts, deletes and compaction as a writable
// server's, made by a command that holds the folder's writer lock for its run (refused, naming the pid, while a
// writable server or a build holds it). index add lists its source as index build does (images, a CSV, or
// vectors with embed's sidecar), embeds images with the index's own model (its checkpoint, checked by SHA-256),
// stores each image content-addressed under IDX/files/ (so that serve shows it), and puts the items: an id
// already in the index is replaced, nothing is removed. Every write is in the log, fsynced, before it returns.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sniffImage } from '../../data/image/image-kind.js';
import type { EngineName } from '../../embed/engine.js';
import { acquireWriterLock } from '../../io/writer-lock.js';
import { InputError, UsageError } from '../../util/errors.js';
import { excerpt } from '../../util/excerpt.js';
import { type ItemEmbedder, modelEmbedder } from '../build/item-embedder.js';
import { type IndexSourceSpec, listIndexSource } from '../build/run-index-build.js';
import type { SourceItem } from '../build/sources.js';
import { openIndex } from '../open-index.js';
import type { CompactReport, HeldImage, IndexWriter, ItemMeta, VisualSearchIndex } from '../types.js';

/** Items embedded, stored and put at a time (the puts of one chunk share group commits). */
const CHUNK = 256;

export interface OfflineWriteOptions {
  /** The index folder. */
  index: string;
  /** Delta entries above which the index compacts while the command writes (default the index's default). */
  compactAbove?: number;
  log?: (line: string) => void;
}

/** Opens the folder writable under its writer lock, runs `fn`, closes (a running compaction finishes first). */
async function withWritable<T>(
  o: OfflineWriteOptions,
  command: string,
  fn: (index: VisualSearchIndex, writer: IndexWriter) => Promise<T>,
): Promise<T> {
  const dir = resolve(o.index);
  const lock = acquireWriterLock(dir, command);
  try {
    const log = o.log ?? (() => {});
    const index = await openIndex(dir, {
      log,
      writer: { lock, ...(o.compactAbove !== undefined ? { compactAbove: o.compactAbove } : {}) },
    });
    try {
      return await fn(index, index.writer as IndexWriter);
    } finally {
      await index.close();
    }
  } finally {
    lock.release();
  }
}

export interface AddOptions
  extends OfflineWriteOptions,
    Omit<IndexSourceSpec, 'dataset' | 'root' | 'split' | 'splitFile'> {
  batchSize?: number;
  workers?: number;
  engine?: EngineName;
  threads?: number;
}

export interface AddReport {
  items: number;
  created: number;
  replaced: number;
  /** Images copied into IDX/files/ (the same content once). */
  stored: number;
  /** Live items in the index afterwards. */
  total: number;
}

/** The index's model, loaded again from its checkpoint; refused when the file is not the one it was built with. */
async function indexModel(index: VisualSearchIndex, o: AddOptions): Promise<ItemEmbedder> {
  const e = index.embedder;
  if (e.checkpointPath === null)
    throw new UsageError(
      `${index.dir} was built from vectors (no model): add --embeddings X.npy with --meta X.json instead of images`,
    );
  const model = await modelEmbedder(e.checkpointPath, {
    ...(e.arch !== null ? { arch: e.arch } : {}),
    dim: e.dim,
    batchSize: o.batchSize ?? 64,
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    ...(o.engine !== undefined ? { engine: o.engine } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    jpegDraft: e.jpegDraft === true,
  });
  if (model.identity.checkpointSha256 !== e.checkpointSha256) {
    model.close();
    throw new InputError(
      `${e.checkpointPath}: not the checkpoint ${index.dir} was built with (its SHA-256 changed); rebuild the index with it`,
    );
  }
  return model;
}

/** The file of an item, stored in the index folder; null when it has none (vectors without a readable file). */
async function storeFile(writer: IndexWriter, abs: string | null, required: boolean): Promise<HeldImage | null> {
  if (abs === null) return null;
  let bytes: Buffer;
  try {
    bytes = readFileSync(abs);
  } catch (e) {
    if (!required) return null;
    throw new InputError(`${abs}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const kind = sniffImage(bytes);
  if (kind === null) {
    if (!required) return null;
    throw new InputError(`${abs}: not an image (JPEG, PNG, WebP, GIF, BMP, TIFF or AVIF)`);
  }
  return writer.storeImage(bytes, kind);
}

/** `index add`: puts every item of the source (new ids are added, known ones replaced). */
export async function addToIndex(o: AddOptions): Promise<AddReport> {
  const log = o.log ?? (() => {});
  return withWritable(o, 'index add', async (index, writer) => {
    const dim = index.stats().dim;
    const source = listIndexSource({
      ...o,
      out: index.dir,
      // Images are embedded with the index's own model (checked below).
      ...(o.embeddings ? {} : { checkpoint: index.embedder.checkpointPath ?? 'none' }),
    });
    if (source.vectors && source.vectors.dim !== dim)
      throw new InputError(`--embeddings ${o.embeddings}: ${source.vectors.dim}-d vectors, the index holds ${dim}-d`);
    const model = source.vectors ? null : await indexModel(index, o);
    const report: AddReport = { items: 0, created: 0, replaced: 0, stored: 0, total: 0 };
    try {
      for (let start = 0; start < source.items.length; start += CHUNK) {
        const chunk = source.items.slice(start, start + CHUNK);
        const vectors = source.vectors
          ? source.vectors.data.subarray(start * dim, (start + chunk.length) * dim)
          : await (model as ItemEmbedder).embed(
              source.dataset as NonNullable<typeof source.dataset>,
              chunk.map((it) => it.sample as NonNullable<SourceItem['sample']>),
            );
        const items: ItemMeta[] = [];
        // Each stored image held (a background compaction keeps it) until the put naming it is in the log.
        const held: HeldImage[] = [];
        let done: Awaited<ReturnType<IndexWriter['put']>>[];
        try {
          for (const it of chunk) {
            const abs =
              it.sample?.path ??
              (it.path !== null && source.imageRoot !== null ? resolve(source.imageRoot, it.path) : null);
            const file = await storeFile(writer, abs, source.vectors === undefined);
            if (file) {
              report.stored++;
              held.push(file);
            }
            items.push({
              id: it.id,
              label: it.label,
              ...(file
                ? { path: file.path, size: file.size, hash: file.hash, stored: true as const }
                : { path: null, size: null, hash: null }),
            });
          }
          done = await Promise.all(items.map((item, i) => writer.put(item, vectors.slice(i * dim, (i + 1) * dim))));
        } finally {
          for (const h of held) h.release();
        }
        for (const r of done) {
          if (r.created) report.created++;
          else report.replaced++;
        }
        report.items += done.length;
        if (source.items.length > CHUNK) log(`${report.items} / ${source.items.length} items`);
      }
    } finally {
      model?.close();
    }
    report.total = index.stats().items;
    return report;
  });
}

export interface RemoveReport {
  removed: number;
  /** Ids that were not in the index. */
  missing: string[];
  total: number;
}

/** The ids of an --ids-file: one a line (blank lines skipped). */
export function readIdsFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`--ids-file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** `index remove`: deletes the items; ids that are not in the index are reported, not an error. */
export async function removeFromIndex(o: OfflineWriteOptions & { ids: readonly string[] }): Promise<RemoveReport> {
  if (o.ids.length === 0) throw new UsageError('give the items to remove: --id ID ... or --ids-file FILE');
  for (const id of o.ids)
    if (id.length > 4096 || id.includes('\0'))
      throw new InputError(`id ${excerpt(id)}: expected 1 to 4096 characters without NUL`);
  return withWritable(o, 'index remove', async (index, writer) => {
    const report: RemoveReport = { removed: 0, missing: [], total: 0 };
    const ids = [...new Set(o.ids)];
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      const done = await Promise.all(chunk.map((id) => writer.remove(id)));
      for (const [i, ok] of done.entries()) {
        if (ok) report.removed++;
        else report.missing.push(chunk[i] as string);
      }
    }
    report.total = index.stats().items;
    return report;
  });
}

/** `index compact`: folds the log into a new generation; null when there was nothing to fold. */
export function compactIndex(o: OfflineWriteOptions): Promise<CompactReport | null> {
  return withWritable({ ...o, compactAbove: Number.MAX_SAFE_INTEGER }, 'index compact', (_index, writer) =>
    writer.compact(),
  );
}
