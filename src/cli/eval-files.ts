// Reading evaluation inputs from files: embeddings [n, d] as .npy, and labels [n] as .npy or as the
// sidecar `embed` writes: X.json next to X.npy, {"paths": [...], "labels": [...]} (the image of each row,
// for the report's retrieval examples, relative paths being relative to the sidecar's directory; and its
// label). Without a labels flag, the labels come from the sidecar next to the embeddings.
// Every problem is one line naming the flag, the file and what was expected.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { sidecarPath } from '../embed/embeddings-file.js';
import { loadNpy } from '../io/npy.js';
import { type Tensor, tensor } from '../tensor/index.js';
import { firstLine, InputError, UsageError } from '../util/errors.js';

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

function loadNpyLabels(flag: string, path: string): Tensor {
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

interface Sidecar {
  paths?: unknown;
  labels?: unknown;
}

function readJson(flag: string, path: string): Sidecar {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${flag} ${path}: cannot read it (${firstLine(e)})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${flag} ${path}: not valid JSON (${firstLine(e)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InputError(`${flag} ${path}: expected a JSON object such as {"paths": [...], "labels": [...]}`);
  }
  return doc as Sidecar;
}

function jsonLabels(flag: string, path: string, doc: Sidecar): Tensor {
  const labels = doc.labels;
  if (!Array.isArray(labels) || !labels.every((v) => Number.isSafeInteger(v))) {
    throw new InputError(`${flag} ${path}: expected "labels": an array of integers, one per embedding`);
  }
  return tensor(BigInt64Array.from(labels as number[], (v) => BigInt(v)));
}

/** Labels from a .npy [n] of integers, or from the "labels" of a .json sidecar as `embed` writes it. */
function loadLabels(flag: string, path: string): Tensor {
  if (/\.json$/i.test(path)) return jsonLabels(flag, path, readJson(flag, path));
  return loadNpyLabels(flag, path);
}

function sidecarPaths(flag: string, path: string, doc: Sidecar, rows: number, npyPath: string): string[] | undefined {
  const paths = doc.paths;
  if (paths === undefined) return undefined;
  if (!Array.isArray(paths) || paths.length !== rows || !paths.every((p) => typeof p === 'string')) {
    throw new InputError(`${flag} ${path}: "paths" must be an array of ${rows} strings, one per row of ${npyPath}`);
  }
  const base = dirname(resolve(path));
  return (paths as string[]).map((p) => resolve(base, p));
}

/**
 * Embeddings and labels of one set, checked against each other. `labels.path` undefined: the labels of
 * the sidecar next to the embeddings (X.json for X.npy). The sidecar's image paths are kept when present.
 */
export function loadSet(
  embeddings: { flag: string; path: string },
  labels: { flag: string; path?: string },
): LoadedSet {
  const e = loadEmbeddings(embeddings.flag, embeddings.path);
  const source = `${embeddings.flag} ${embeddings.path}`;
  const set: LoadedSet = { embeddings: e, labels: e, source };
  try {
    const sidecar = sidecarPath(embeddings.path);
    const sidecarFlag = `${embeddings.flag} sidecar`;
    const doc = sidecar !== embeddings.path && existsSync(sidecar) ? readJson(sidecarFlag, sidecar) : undefined;
    let labelsFrom: string;
    if (labels.path !== undefined) {
      labelsFrom = `${labels.flag} ${labels.path}`;
      set.labels = loadLabels(labels.flag, labels.path);
    } else if (doc !== undefined) {
      labelsFrom = `${sidecarFlag} ${sidecar}`;
      set.labels = jsonLabels(sidecarFlag, sidecar, doc);
    } else {
      throw new UsageError(
        `${source}: no ${labels.flag} given and no ${sidecar} next to it (embed writes one); ` +
          `pass ${labels.flag} FILE (a .npy of labels, or the .json embed wrote)`,
      );
    }
    if (set.labels.size(0) !== e.size(0)) {
      throw new UsageError(`${labelsFrom} has ${set.labels.size(0)} labels but ${source} has ${e.size(0)} rows`);
    }
    if (doc) set.paths = sidecarPaths(sidecarFlag, sidecar, doc, e.size(0), embeddings.path);
  } catch (err) {
    if (set.labels !== e) set.labels.dispose();
    e.dispose();
    throw err;
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
