// The work of `normsoftmax index build` (as runSession is training's, runEmbed embedding's): the folder's
// writer lock first (a second build is refused before it lists, loads or embeds anything), the source listed,
// the model loaded when the source has no vectors, then the build. The command and the library's buildIndex()
// both run this.
import { resolve } from 'node:path';
import { loadDataset, splitNames } from '../../data/formats/index.js';
import type { SplitName } from '../../data/types.js';
import { resolveWeights } from '../../data/weights/index.js';
import type { EngineName } from '../../embed/engine.js';
import { acquireWriterLock } from '../../io/writer-lock.js';
import type { Precision } from '../../tensor/precision.js';
import { UsageError } from '../../util/errors.js';
import { DEFAULT_EXACT_BELOW } from '../backend.js';
import { checkedGraphSettings } from '../graph-settings.js';
import type { IndexBackend, VectorPrecision } from '../types.js';
import { type BuildReport, buildIndex } from './build-index.js';
import { type ItemEmbedder, modelEmbedder } from './item-embedder.js';
import { csvSource, datasetSource, embeddingsSource, imagesSource, type ListedSource } from './sources.js';

/** Where the items come from: exactly one of these (as index build's flags). */
export interface IndexSourceSpec {
  /** Every image file below this folder. */
  images?: string;
  /** A data set (cub, cars196, sop, inshop, folder, csv, fashion-mnist, mnist) and one of its splits. */
  dataset?: string;
  root?: string;
  split?: string;
  splitFile?: string;
  /** A CSV of path[,label]. */
  csv?: string;
  /** Vectors from `embed` (X.npy), with X.json's paths and labels (meta). */
  embeddings?: string;
  meta?: string;
}

export interface IndexBuildRun extends IndexSourceSpec {
  out: string;
  /** The model that embeds the images (not with embeddings): a checkpoint, weights or their name, an .onnx. */
  checkpoint?: string;
  arch?: string;
  dim?: number;
  /** Stored vectors: f32 (default), f16 or i8. */
  precision?: VectorPrecision;
  backend?: IndexBackend;
  exactBelow?: number;
  /** The HNSW graph's links per node (2-256) and build beam (1-4096); default the previous build's, else 16 and 128. */
  hnswM?: number;
  hnswEfConstruction?: number;
  skipBadImages?: boolean;
  batchSize?: number;
  workers?: number;
  engine?: EngineName;
  /** The forwards' precision (the command's --compute-precision). */
  computePrecision?: Precision;
  threads?: number;
  jpegDraft?: boolean;
  log?: (line: string) => void;
  silent?: boolean;
}

/** The items of the one source given; a missing or doubled source, or a model where none goes, is a UsageError. */
export function listIndexSource(o: IndexSourceSpec & { out: string; checkpoint?: string }): ListedSource {
  const given = [
    o.images && '--images',
    o.dataset && '--dataset',
    o.csv && '--csv',
    o.embeddings && '--embeddings',
  ].filter(Boolean);
  if (given.length !== 1) {
    throw new UsageError(
      `give exactly one source: --images DIR, --dataset NAME --root DIR, --csv FILE (each with --checkpoint) or --embeddings X.npy${given.length > 1 ? ` (got ${given.join(' and ')})` : ''}`,
    );
  }
  if (o.embeddings) {
    if (o.checkpoint) throw new UsageError('--embeddings takes no --checkpoint: the vectors are already computed');
    if (!o.embeddings.endsWith('.npy')) throw new UsageError(`--embeddings ${o.embeddings}: expected a .npy file`);
    return embeddingsSource(o.embeddings, o.meta);
  }
  if (o.meta) throw new UsageError('--meta goes with --embeddings');
  if (!o.checkpoint) throw new UsageError(`${given[0]} needs --checkpoint FILE (the model that embeds the images)`);
  if (o.images) return imagesSource(o.images, [o.out]);
  if (o.csv) return csvSource(o.csv);
  const name = o.dataset as string;
  const dataset = loadDataset(name, o.root ?? '', o.splitFile === undefined ? {} : { splitFile: o.splitFile });
  const split = o.split ?? (dataset.splits.test ? 'test' : 'gallery');
  const known = splitNames(dataset) as string[];
  if (!known.includes(split))
    throw new UsageError(`--split ${split}: ${dataset.name} has the splits ${known.join(', ')}`);
  return datasetSource(
    dataset,
    dataset.splits[split as SplitName] ?? [],
    { dataset: name, ...(o.root ? { root: resolve(o.root) } : {}), split },
    dataset.classNames?.[split as SplitName],
  );
}

export async function runIndexBuild(o: IndexBuildRun): Promise<BuildReport> {
  const out = resolve(o.out);
  const log = o.log ?? (() => {});
  const graph = checkedGraphSettings(
    { m: o.hnswM, efConstruction: o.hnswEfConstruction },
    { m: 'hnswM', efConstruction: 'hnswEfConstruction' },
  );
  // One writer per folder: a second build is refused before it lists, loads or embeds anything.
  const lock = acquireWriterLock(out, 'index build');
  let embedder: ItemEmbedder | null = null;
  try {
    const source = listIndexSource(o);
    if (!source.vectors) {
      const named = await resolveWeights(o.checkpoint as string); // a weights name: its cached file
      const arch = o.arch ?? named.arch;
      embedder = await modelEmbedder(named.path, {
        ...(arch !== undefined ? { arch } : {}),
        ...(o.dim !== undefined ? { dim: o.dim } : {}),
        batchSize: o.batchSize ?? 64,
        ...(o.workers !== undefined ? { workers: o.workers } : {}),
        ...(o.computePrecision !== undefined ? { precision: o.computePrecision } : {}),
        ...(o.engine !== undefined ? { engine: o.engine } : {}),
        ...(o.threads !== undefined ? { threads: o.threads } : {}),
        jpegDraft: o.jpegDraft === true,
        log,
      });
      log(`model: ${embedder.description}`);
    }
    return await buildIndex(source, {
      out,
      precision: o.precision ?? 'f32',
      backend: o.backend ?? 'usearch',
      exactBelow: o.exactBelow ?? DEFAULT_EXACT_BELOW,
      ...(Object.keys(graph).length > 0 ? { graph } : {}),
      skipBadImages: o.skipBadImages === true,
      embedder,
      log,
      lock,
      ...(o.silent ? { silent: true } : {}),
    });
  } finally {
    (embedder as ItemEmbedder | null)?.close();
    lock.release();
  }
}
