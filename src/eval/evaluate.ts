// Retrieval evaluation of embeddings: Recall@K, and optionally NMI (k-means), MAP@R / R-Precision,
// for float embeddings (inner product) and their binary codes (Hamming distance).
//
// Which queries exclude themselves is decided by the form of the input, never by comparing arrays:
//   { embeddings, labels }  query set = gallery (CUB, Cars, SOP): query i never retrieves item i;
//   { query, gallery }      two sets (In-Shop): nothing is excluded, even if the arrays are equal.
import { cat, isFloating, scope, type Tensor } from '../tensor/index.js';
import { InputError, UsageError } from '../util/errors.js';
import { binarize, knnHamming, knnHammingSelf, type StorageReport, storageReport } from './binary.js';
import { type KMeansOptions, kmeans } from './kmeans.js';
import { kmeansSklearn } from './kmeans-sklearn.js';
import { knnInnerProduct, knnInnerProductSelf } from './knn.js';
import { LabelCodes, type LabelsLike } from './labels.js';
import { mapAtR, maxRelevant } from './map-at-r.js';
import type { Neighbors } from './neighbors.js';
import { NMI_DEFAULT_AVERAGE, type NmiAverage, type NmiMethod, normalizedMutualInfo } from './nmi.js';
import { checkKs, recallAtK } from './recall.js';
import { DEFAULT_RECALL_KS } from './recall-ks.js';

export interface EvalSet {
  embeddings: Tensor;
  labels: LabelsLike;
}

/** One set searched against itself (self excluded), or a query set against a distinct gallery. */
export type EvalInput = EvalSet | { query: EvalSet; gallery: EvalSet };

export interface NmiOptions extends KMeansOptions {
  /** The k-means behind NMI (default paper; see src/eval/nmi.ts). */
  method?: NmiMethod;
  /** Default: the method's (paper: geometric, sklearn: arithmetic). */
  average?: NmiAverage;
}

export interface EvaluateOptions {
  /** Recall@K for these K (default 1, 2, 4, 8). */
  k?: readonly number[];
  /** Also evaluate binary codes (bit = x > 0) with Hamming distance. */
  binary?: boolean;
  /** NMI of k-means clusters (k = number of classes) against the labels, on the float embeddings. */
  nmi?: boolean | NmiOptions;
  /** MAP@R and R-Precision. */
  mapR?: boolean;
  /** Retrieve at least this many neighbours per query (e.g. to show examples). */
  minNeighbors?: number;
  /** Rows and columns of one score tile (memory: tileSize^2 * 4 bytes). */
  tileSize?: number;
  onProgress?: (stage: 'float' | 'binary' | 'nmi', done: number, total: number) => void;
}

export interface Metrics {
  /** Recall@K in percent, keyed by K. */
  recall: Record<string, number>;
  /** In [0, 1]. */
  nmi?: number;
  /** In [0, 1]. */
  mapAtR?: number;
  /** In [0, 1]. */
  rPrecision?: number;
}

export interface EvalResult {
  float: Metrics;
  binary?: Metrics;
  /** How float.nmi was computed, when it was. */
  nmiMethod?: { method: NmiMethod; average: NmiAverage };
}

/** Everything an evaluation computed, for reports: the metrics plus neighbours, sizes and timings. */
export interface EvalRun {
  result: EvalResult;
  selfRetrieval: boolean;
  queries: number;
  galleryItems: number;
  dimension: number;
  neighbors: { float: Neighbors; binary?: Neighbors };
  /** Dense label codes (shared by query and gallery). */
  queryLabels: Int32Array;
  galleryLabels: Int32Array;
  /** The original label of each code. */
  classNames: (number | bigint)[];
  storage: StorageReport;
  seconds: { float: number; binary?: number; nmi?: number };
}

interface Prepared {
  self: boolean;
  query: Tensor;
  gallery: Tensor;
  queryLabels: Int32Array;
  galleryLabels: Int32Array;
  classNames: (number | bigint)[];
}

function isPair(input: EvalInput): input is { query: EvalSet; gallery: EvalSet } {
  return 'query' in input && 'gallery' in input;
}

// Bad input (embeddings, labels, K) is an InputError or a UsageError naming what is wrong, in one line;
// anything else that throws here is a bug of ours and stays an internal error.
function checkEmbeddings(x: Tensor, labels: Int32Array, what: string): void {
  if (x.rank !== 2) {
    throw new InputError(`${what} embeddings: expected a 2-d [n, d] array, got shape [${x.shape.join(', ')}]`);
  }
  if (x.size(0) !== labels.length) {
    throw new InputError(`${what}: ${x.size(0)} embeddings but ${labels.length} labels`);
  }
  if (x.size(0) === 0) throw new InputError(`${what}: no embeddings`);
  if (!isFloating(x.dtype)) throw new InputError(`${what} embeddings: expected floating-point values, got ${x.dtype}`);
  const finite = scope(() => x.isfinite().all().item());
  if (!finite) throw new InputError(`${what} embeddings contain NaN or infinite values`);
}

/** Dense label codes; labels that are not integers (or not 1-d) are bad input. */
function encodeLabels(codes: LabelCodes, labels: LabelsLike, what: string): Int32Array {
  try {
    return codes.encode(labels, what);
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(e.message);
    throw e;
  }
}

/**
 * The K list: positive integers, none larger than the number of items a query can retrieve (`available`:
 * the gallery, less the query itself when `self`). Exported so that training can refuse it before it starts.
 */
export function checkRecallKs(ks: readonly number[], available: number, self: boolean): void {
  if (ks.length === 0) throw new UsageError('--k: the K list is empty');
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw new UsageError(`--k: K must be a positive integer, got ${k}`);
  }
  const largest = Math.max(...ks);
  if (largest > available) {
    const items = self
      ? `${available + 1} items, ${available} of them retrievable (a query excludes itself)`
      : `${available} items`;
    throw new UsageError(
      `--k: Recall@${largest} needs at least ${largest} gallery items per query, the gallery has ${items}`,
    );
  }
  checkKs(ks);
}

function prepare(input: EvalInput): Prepared {
  const codes = new LabelCodes();
  if (!isPair(input)) {
    const labels = encodeLabels(codes, input.labels, 'labels');
    checkEmbeddings(input.embeddings, labels, 'the set');
    if (input.embeddings.size(0) < 2) throw new InputError('the set needs at least 2 items (a query excludes itself)');
    return {
      self: true,
      query: input.embeddings,
      gallery: input.embeddings,
      queryLabels: labels,
      galleryLabels: labels,
      classNames: codes.values(),
    };
  }
  const queryLabels = encodeLabels(codes, input.query.labels, 'query labels');
  const galleryLabels = encodeLabels(codes, input.gallery.labels, 'gallery labels');
  checkEmbeddings(input.query.embeddings, queryLabels, 'query');
  checkEmbeddings(input.gallery.embeddings, galleryLabels, 'gallery');
  const dq = input.query.embeddings.size(1);
  const dg = input.gallery.embeddings.size(1);
  if (dq !== dg) throw new InputError(`query embeddings have dimension ${dq}, gallery embeddings ${dg}`);
  return {
    self: false,
    query: input.query.embeddings,
    gallery: input.gallery.embeddings,
    queryLabels,
    galleryLabels,
    classNames: codes.values(),
  };
}

function retrievalMetrics(p: Prepared, nb: Neighbors, ks: readonly number[], withMapR: boolean): Metrics {
  const common = { neighbors: nb, queryLabels: p.queryLabels, galleryLabels: p.galleryLabels, excludeSelf: p.self };
  const metrics: Metrics = { recall: recallAtK(common, ks) };
  if (withMapR) {
    const m = mapAtR(common);
    metrics.mapAtR = m.mapAtR;
    metrics.rPrecision = m.rPrecision;
  }
  return metrics;
}

function timed<T>(fn: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const value = fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

function clusterNmi(p: Prepared, o: NmiOptions, method: NmiMethod, average: NmiAverage): number {
  return scope(() => {
    const x = p.self ? p.query : cat([p.query.to('float32'), p.gallery.to('float32')], 0);
    const labels = p.self ? p.queryLabels : Int32Array.from([...p.queryLabels, ...p.galleryLabels]);
    const classes = new Set(labels).size;
    // Only the options given: an undefined value would override the k-means defaults.
    const { method: _m, average: _a, init, ...k } = o;
    const { assignments } = method === 'sklearn' ? kmeansSklearn(x, classes, k) : kmeans(x, classes, o);
    return normalizedMutualInfo(labels, assignments, average);
  });
}

export function runEvaluation(input: EvalInput, options: EvaluateOptions = {}): EvalRun {
  const ks = options.k ?? DEFAULT_RECALL_KS;
  const p = prepare(input);
  const available = p.gallery.size(0) - (p.self ? 1 : 0);
  checkRecallKs(ks, available, p.self);
  const wanted = Math.max(
    ...ks,
    options.minNeighbors ?? 0,
    options.mapR ? maxRelevant(p.queryLabels, p.galleryLabels, p.self) : 0,
  );
  const k = Math.max(1, Math.min(available, wanted));
  const knnOptions = (stage: 'float' | 'binary') => ({
    tileSize: options.tileSize,
    onProgress: options.onProgress && ((d: number, t: number) => options.onProgress?.(stage, d, t)),
  });

  const [floatNeighbors, floatSeconds] = timed(() =>
    p.self
      ? knnInnerProductSelf(p.query, k, knnOptions('float'))
      : knnInnerProduct(p.query, p.gallery, k, knnOptions('float')),
  );
  const result: EvalResult = { float: retrievalMetrics(p, floatNeighbors, ks, options.mapR === true) };
  const seconds: EvalRun['seconds'] = { float: floatSeconds };
  const neighbors: EvalRun['neighbors'] = { float: floatNeighbors };

  if (options.nmi) {
    const o = options.nmi === true ? {} : options.nmi;
    const method = o.method ?? 'paper';
    if (method !== 'paper' && method !== 'sklearn') throw new UsageError(`--nmi-method: expected paper or sklearn`);
    const average = o.average ?? NMI_DEFAULT_AVERAGE[method];
    const [value, s] = timed(() => clusterNmi(p, o, method, average));
    result.float.nmi = value;
    result.nmiMethod = { method, average };
    seconds.nmi = s;
  }
  if (options.binary) {
    const [binaryNeighbors, s] = timed(() =>
      scope(() =>
        p.self
          ? knnHammingSelf(binarize(p.query), k, knnOptions('binary'))
          : knnHamming(binarize(p.query), binarize(p.gallery), k, knnOptions('binary')),
      ),
    );
    result.binary = retrievalMetrics(p, binaryNeighbors, ks, options.mapR === true);
    neighbors.binary = binaryNeighbors;
    seconds.binary = s;
  }
  return {
    result,
    selfRetrieval: p.self,
    queries: p.query.size(0),
    galleryItems: p.gallery.size(0),
    dimension: p.query.size(1),
    neighbors,
    queryLabels: p.queryLabels,
    galleryLabels: p.galleryLabels,
    classNames: p.classNames,
    storage: storageReport(p.query.size(1)),
    seconds,
  };
}

/**
 * Evaluates embeddings: { float: { recall: { '1': ... }, nmi?, mapAtR?, rPrecision? }, binary?: {...} },
 * recall in percent. Self retrieval for { embeddings, labels }; query vs gallery for { query, gallery }.
 */
export function evaluate(input: EvalInput, options: EvaluateOptions = {}): EvalResult {
  return runEvaluation(input, options).result;
}
