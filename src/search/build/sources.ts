// The items an index is built from, one of four sources: a folder of images, a data set split, a CSV of
// path[,label], or vectors computed elsewhere (an .npy with `embed`'s sidecar JSON of paths and labels).
// Ids are paths relative to the index's image root (or a data set's virtual ids, or row numbers).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseCsv } from '../../data/formats/csv-text.js';
import type { Dataset, Sample } from '../../data/types.js';
import { loadNpy } from '../../io/npy.js';
import { InputError } from '../../util/errors.js';
import type { SourceInfo } from '../manifest.js';
import { listImageFiles } from './image-files.js';

export interface SourceItem {
  id: string;
  /** Relative to the image root; null for items without a file. */
  path: string | null;
  label: string | null;
  /** What the image pipeline reads (absolute file path or virtual id); null for --embeddings. */
  sample: Sample | null;
}

export interface ListedSource {
  info: SourceInfo;
  imageRoot: string | null;
  items: SourceItem[];
  /** The data set the samples belong to (embedding reads pixels through it). */
  dataset: Dataset | null;
  /** --embeddings: the vectors, n x dim row-major. */
  vectors?: { data: Float32Array; dim: number };
}

/** The deepest folder holding every path (absolute paths). */
export function commonDir(paths: readonly string[]): string {
  let parts = dirname(paths[0] as string).split(sep);
  for (const p of paths) {
    const q = dirname(p).split(sep);
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(sep) || sep;
}

function relativeTo(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}

function fileItems(paths: string[], labels: (string | null)[], root: string): SourceItem[] {
  return paths.map((abs, i) => {
    const rel = relativeTo(root, abs);
    return { id: rel, path: rel, label: labels[i] ?? null, sample: { path: abs, label: 0 } };
  });
}

function checkUnique(items: SourceItem[], what: string): SourceItem[] {
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw new InputError(`${what}: "${it.id}" appears twice`);
    seen.add(it.id);
  }
  return items;
}

export function imagesSource(dir: string, exclude: string[]): ListedSource {
  const root = resolve(dir);
  const files = listImageFiles(root, exclude);
  const labels = files.map((f) => {
    const folder = relativeTo(root, dirname(f));
    return folder === '' ? null : folder;
  });
  const items = fileItems(files, labels, root);
  return {
    info: { kind: 'images', detail: { images: root } },
    imageRoot: root,
    items,
    dataset: { name: 'images', root, splits: {} },
  };
}

/** `classNames`: the split's label names (e.g. "sandal"); without them a label is its number as text. */
export function datasetSource(
  dataset: Dataset,
  samples: readonly Sample[],
  detail: Record<string, string>,
  classNames: readonly string[] = [],
): ListedSource {
  if (samples.length === 0) throw new InputError(`--dataset ${dataset.name}: the split has no samples`);
  const info: SourceInfo = { kind: 'dataset', detail };
  const labelOf = (s: Sample): string => classNames[s.label] ?? String(s.label);
  if (dataset.readRaw) {
    const items = samples.map((s) => ({ id: s.path, path: null, label: labelOf(s), sample: s }));
    return { info, imageRoot: null, items: checkUnique(items, `--dataset ${dataset.name}`), dataset };
  }
  const root = commonDir(samples.map((s) => s.path));
  const items = fileItems(
    samples.map((s) => s.path),
    samples.map(labelOf),
    root,
  );
  return { info, imageRoot: root, items: checkUnique(items, `--dataset ${dataset.name}`), dataset };
}

/** A CSV of path[,label] (an optional header line "path[,label]"); paths relative to the CSV's folder. */
export function csvSource(file: string): ListedSource {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new InputError(`--csv ${file}: no such file`);
  const records = parseCsv(readFileSync(abs, 'utf8'), abs);
  const first = records[0]?.fields.map((f) => f.trim().toLowerCase());
  const body = first?.[0] === 'path' ? records.slice(1) : records;
  const paths: string[] = [];
  const labels: (string | null)[] = [];
  for (const r of body) {
    const path = r.fields[0]?.trim() ?? '';
    if (r.fields.length === 1 && path === '') continue;
    if (path === '' || r.fields.length > 2)
      throw new InputError(`${abs}:${r.line}: expected path[,label], found "${r.fields.join(',')}"`);
    paths.push(isAbsolute(path) ? path : join(dirname(abs), path));
    const label = r.fields[1]?.trim() ?? '';
    labels.push(label === '' ? null : label);
  }
  if (paths.length === 0) throw new InputError(`--csv ${file}: no rows`);
  const root = commonDir(paths);
  const items = checkUnique(fileItems(paths, labels, root), `--csv ${file}`);
  return {
    info: { kind: 'csv', detail: { csv: abs } },
    imageRoot: root,
    items,
    dataset: { name: 'csv', root, splits: {} },
  };
}

/** Vectors from an .npy (N x D float32) and optionally embed's sidecar {"paths": [...], "labels": [...]}. */
export function embeddingsSource(npy: string, meta: string | undefined): ListedSource {
  if (!existsSync(npy)) throw new InputError(`--embeddings ${npy}: no such file`);
  const t = loadNpy(npy);
  let data: Float32Array;
  let n: number;
  let dim: number;
  try {
    if (t.rank !== 2 || !['float32', 'float64', 'float16'].includes(t.dtype)) {
      throw new InputError(
        `--embeddings ${npy}: expected a 2-d float array (N x D), got ${t.dtype} [${t.shape.join(', ')}]`,
      );
    }
    [n, dim] = t.shape as [number, number];
    data = t.to({ dtype: 'float32' }).toTypedArray() as Float32Array;
  } finally {
    t.dispose();
  }
  if (n === 0 || dim === 0) throw new InputError(`--embeddings ${npy}: no vectors`);
  if (!data.every(Number.isFinite)) throw new InputError(`--embeddings ${npy}: holds NaN or infinite values`);
  const info: SourceInfo = {
    kind: 'embeddings',
    detail: { embeddings: resolve(npy), ...(meta ? { meta: resolve(meta) } : {}) },
  };
  if (meta === undefined) {
    const items = Array.from({ length: n }, (_, i) => ({ id: String(i), path: null, label: null, sample: null }));
    return { info, imageRoot: null, items, dataset: null, vectors: { data, dim } };
  }
  if (!existsSync(meta)) throw new InputError(`--meta ${meta}: no such file`);
  let m: { paths?: unknown; labels?: unknown };
  try {
    m = JSON.parse(readFileSync(meta, 'utf8'));
  } catch (e) {
    throw new InputError(`--meta ${meta}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(m.paths) || m.paths.length !== n || !m.paths.every((p) => typeof p === 'string')) {
    throw new InputError(`--meta ${meta}: expected "paths", a list of ${n} strings (one per row of ${npy})`);
  }
  const labels = m.labels === undefined ? [] : m.labels;
  if (!Array.isArray(labels) || (labels.length !== 0 && labels.length !== n)) {
    throw new InputError(`--meta ${meta}: "labels" must have ${n} entries`);
  }
  const paths = (m.paths as string[]).map((p) => resolve(dirname(resolve(meta)), p));
  const root = commonDir(paths);
  const items = checkUnique(
    fileItems(
      paths,
      paths.map((_, i) => (labels[i] === undefined || labels[i] === null ? null : String(labels[i]))),
      root,
    ).map((it) => ({ ...it, sample: null })),
    `--meta ${meta}`,
  );
  return { info, imageRoot: root, items, dataset: null, vectors: { data, dim } };
}
