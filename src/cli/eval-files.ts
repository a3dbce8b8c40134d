// Reading evaluation inputs from files: embeddings [n, d] and labels [n] as .npy, plus an optional
// sidecar FILE.json next to FILE.npy holding {"paths": [...], "labels": [...]} (image of each row, for
// the report's retrieval examples; relative paths are relative to the sidecar's directory).
// Every problem is one line naming the flag, the file and what was expected.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadNpy } from '../io/npy.js';
import type { Tensor } from '../tensor/index.js';
import { InputError, UsageError } from '../util/errors.js';

export interface LoadedSet {
  embeddings: Tensor;
  labels: Tensor;
  /** Absolute image path of each row, when a sidecar names them. */
  paths?: string[];
  /** The flag and file of the embeddings, for messages. */
  source: string;
}

const FLOAT_DTYPES = ['float32', 'float64', 'float16'];
const LABEL_DTYPES = ['int32', 'int64', 'int16', 'int8', 'uint8'];

function describeShape(t: Tensor): string {
  return `${t.dtype} (${t.shape.join(', ')}${t.rank === 1 ? ',' : ''})`;
}

function loadEmbeddings(flag: string, path: string): Tensor {
  const t = loadNpy(path);
  if (t.rank !== 2 || !FLOAT_DTYPES.includes(t.dtype)) {
    const found = describeShape(t);
    t.dispose();
    throw new InputError(`${flag} ${path}: expected a 2-d float array [n, d], got ${found}`);
  }
  return t;
}

function loadLabels(flag: string, path: string): Tensor {
  const t = loadNpy(path);
  const oneD = t.rank === 1 || (t.rank === 2 && t.shape[1] === 1);
  if (!oneD || !LABEL_DTYPES.includes(t.dtype)) {
    const found = describeShape(t);
    t.dispose();
    throw new InputError(`${flag} ${path}: expected a 1-d integer array (int32 or int64) of labels, got ${found}`);
  }
  if (t.rank === 2) {
    const flat = t.reshape(-1);
    t.dispose();
    return flat;
  }
  return t;
}

/** FILE.json next to FILE.npy, if present. */
export function sidecarPath(npyPath: string): string {
  return npyPath.replace(/(\.npy)?$/i, '.json');
}

function readSidecar(path: string, rows: number, npyPath: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`${path}: not a readable JSON sidecar (${(e as Error).message.split('\n')[0]})`);
  }
  const paths = (doc as { paths?: unknown } | null)?.paths;
  if (!Array.isArray(paths) || paths.length !== rows || !paths.every((p) => typeof p === 'string')) {
    throw new InputError(`${path}: "paths" must be an array of ${rows} strings, one per row of ${npyPath}`);
  }
  const labels = (doc as { labels?: unknown }).labels;
  if (labels !== undefined && (!Array.isArray(labels) || labels.length !== rows)) {
    throw new InputError(`${path}: "labels" must have ${rows} entries, one per row of ${npyPath}`);
  }
  const base = dirname(resolve(path));
  return (paths as string[]).map((p) => resolve(base, p));
}

/** Embeddings and labels of one set, checked against each other. */
export function loadSet(embeddings: { flag: string; path: string }, labels: { flag: string; path: string }): LoadedSet {
  const e = loadEmbeddings(embeddings.flag, embeddings.path);
  let l: Tensor;
  try {
    l = loadLabels(labels.flag, labels.path);
  } catch (err) {
    e.dispose();
    throw err;
  }
  const source = `${embeddings.flag} ${embeddings.path}`;
  if (l.size(0) !== e.size(0)) {
    const message = `${labels.flag} ${labels.path} has ${l.size(0)} labels but ${source} has ${e.size(0)} rows`;
    e.dispose();
    l.dispose();
    throw new UsageError(message);
  }
  const sidecar = sidecarPath(embeddings.path);
  const set: LoadedSet = { embeddings: e, labels: l, source };
  if (existsSync(sidecar)) {
    try {
      set.paths = readSidecar(sidecar, e.size(0), embeddings.path);
    } catch (err) {
      e.dispose();
      l.dispose();
      throw err;
    }
  }
  return set;
}

/** Query and gallery must live in one embedding space. */
export function checkSameDimension(query: LoadedSet, gallery: LoadedSet): void {
  const dq = query.embeddings.size(1);
  const dg = gallery.embeddings.size(1);
  if (dq !== dg) {
    throw new InputError(`${gallery.source} has dimension ${dg} but ${query.source} has dimension ${dq}`);
  }
}
