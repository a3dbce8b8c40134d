// `normsoftmax eval`: retrieval metrics of embeddings given as .npy files (one set searched against
// itself, or query vs gallery), or of a model checkpoint on a data set's test split (In-Shop: query vs
// gallery), embedded by embedForEval (src/embed/embed-for-eval.ts).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { embedForEval } from '../../embed/embed-for-eval.js';
import { type EvalInput, type EvalRun, type NmiOptions, runEvaluation } from '../../eval/evaluate.js';
import { formatMetricsTable } from '../../eval/format-metrics.js';
import { KMEANS_DEFAULTS } from '../../eval/kmeans.js';
import { NMI_DEFAULT_AVERAGE, NMI_METHODS, type NmiMethod } from '../../eval/nmi.js';
import { formatRealityCheck } from '../../eval/reality-check-format.js';
import { DEFAULT_RECALL_KS, recallKs } from '../../eval/recall-ks.js';
import { reportHtml, reportMarkdown } from '../../eval/report.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { ARCHS } from '../../nn/embedder.js';
import { F, scope, type Tensor } from '../../tensor/index.js';
import { InputError, UsageError } from '../../util/errors.js';
import { openDataset } from '../dataset-options.js';
import { checkSameDimension, type LoadedSet, loadSet } from '../eval-files.js';
import { optionalInteger, parseInteger, parseKList } from '../parse-flags.js';
import { precisionFromFlag } from '../precision-flag.js';
import { runRealityCheck } from '../reality-check-eval.js';

export interface EvalOptions {
  embeddings?: string;
  labels?: string;
  queryEmbeddings?: string;
  queryLabels?: string;
  galleryEmbeddings?: string;
  galleryLabels?: string;
  /** One file; with --protocol reality-check, several (repeated flag or comma-separated). */
  checkpoint?: string | string[];
  arch?: string;
  dim?: string;
  dataset?: string;
  root?: string;
  k?: string;
  binary?: boolean;
  nmi?: boolean;
  mapR?: boolean;
  json?: boolean;
  report?: string;
  normalize?: boolean;
  nmiIterations?: string;
  nmiRestarts?: string;
  nmiAverage?: string;
  nmiMethod?: string;
  seed?: string;
  tileSize?: string;
  /** standard (default) or reality-check. */
  protocol?: string;
  /** Also write the --json object to this file. */
  out?: string;
  /** fp32, bf16 or auto: the forwards of --checkpoint. */
  precision?: string;
}

export const PROTOCOLS = ['standard', 'reality-check'] as const;

const PAIR_FLAGS = [
  ['queryEmbeddings', '--query-embeddings'],
  ['queryLabels', '--query-labels'],
  ['galleryEmbeddings', '--gallery-embeddings'],
  ['galleryLabels', '--gallery-labels'],
] as const;

type Mode = 'self' | 'pair' | 'checkpoint';

function modeOf(o: EvalOptions): Mode {
  const self = o.embeddings !== undefined || o.labels !== undefined;
  const pair = PAIR_FLAGS.some(([key]) => o[key] !== undefined);
  const model = o.checkpoint !== undefined;
  if ([self, pair, model].filter(Boolean).length !== 1) {
    throw new UsageError(
      'eval: give exactly one input: --embeddings [--labels], or --query-embeddings and --gallery-embeddings ' +
        '[--query-labels --gallery-labels], or --checkpoint with --dataset and --root',
    );
  }
  if (self) {
    if (!o.embeddings) throw new UsageError('--labels needs --embeddings');
    return 'self';
  }
  if (pair) {
    // The labels flags may be left out: the sidecars next to the embeddings give the labels.
    const missing = PAIR_FLAGS.filter(([key, flag]) => flag.endsWith('-embeddings') && o[key] === undefined).map(
      ([, flag]) => flag,
    );
    if (missing.length > 0) throw new UsageError(`query/gallery evaluation also needs ${missing.join(', ')}`);
    return 'pair';
  }
  if (!o.dataset) throw new UsageError('--checkpoint needs --dataset NAME (and --root DIR)');
  return 'checkpoint';
}

function nmiOptions(o: EvalOptions): NmiOptions {
  const method = o.nmiMethod ?? 'paper';
  if (!NMI_METHODS.includes(method as NmiMethod)) {
    throw new UsageError(`--nmi-method: expected ${NMI_METHODS.join(' or ')}, got "${method}"`);
  }
  const average = o.nmiAverage ?? NMI_DEFAULT_AVERAGE[method as NmiMethod];
  if (average !== 'geometric' && average !== 'arithmetic') {
    throw new UsageError(`--nmi-average: expected geometric or arithmetic, got "${average}"`);
  }
  return {
    method: method as NmiMethod,
    iterations: optionalInteger('--nmi-iterations', o.nmiIterations, KMEANS_DEFAULTS.iterations),
    restarts: optionalInteger('--nmi-restarts', o.nmiRestarts, KMEANS_DEFAULTS.restarts),
    seed: optionalInteger('--seed', o.seed, KMEANS_DEFAULTS.seed, 0),
    average,
  };
}

interface Inputs {
  input: EvalInput;
  /** Where each set came from, for messages and the report. */
  sources: string[];
  queryPaths?: string[];
  galleryPaths?: string[];
  dispose(): void;
}

function disposeSets(sets: LoadedSet[]): void {
  for (const set of sets) {
    set.embeddings.dispose();
    set.labels.dispose();
  }
}

function loadFiles(o: EvalOptions, mode: 'self' | 'pair'): Inputs {
  if (mode === 'self') {
    const set = loadSet({ flag: '--embeddings', path: o.embeddings as string }, { flag: '--labels', path: o.labels });
    return {
      input: set,
      sources: [set.source],
      queryPaths: set.paths,
      galleryPaths: set.paths,
      dispose: () => disposeSets([set]),
    };
  }
  const query = loadSet(
    { flag: '--query-embeddings', path: o.queryEmbeddings as string },
    { flag: '--query-labels', path: o.queryLabels },
  );
  let gallery: LoadedSet;
  try {
    gallery = loadSet(
      { flag: '--gallery-embeddings', path: o.galleryEmbeddings as string },
      { flag: '--gallery-labels', path: o.galleryLabels },
    );
  } catch (e) {
    disposeSets([query]);
    throw e;
  }
  const inputs: Inputs = {
    input: { query, gallery },
    sources: [query.source, gallery.source],
    queryPaths: query.paths,
    galleryPaths: gallery.paths,
    dispose: () => disposeSets([query, gallery]),
  };
  try {
    checkSameDimension(query, gallery);
  } catch (e) {
    inputs.dispose();
    throw e;
  }
  return inputs;
}

/** The --checkpoint values: repeated flags, and with reality-check each value split at commas. */
function checkpointList(o: EvalOptions, protocol: string): string[] {
  const given = o.checkpoint === undefined ? [] : Array.isArray(o.checkpoint) ? o.checkpoint : [o.checkpoint];
  const list = protocol === 'reality-check' ? given.flatMap((c) => c.split(',')).filter((c) => c !== '') : given;
  if (protocol !== 'reality-check' && list.length > 1) {
    throw new UsageError('--checkpoint: one checkpoint (several only with --protocol reality-check)');
  }
  return list;
}

async function embedCheckpoint(o: EvalOptions, silent: boolean): Promise<Inputs> {
  const dim = optionalInteger('--dim', o.dim, undefined);
  const precision = precisionFromFlag(o.precision);
  const dataset = openDataset({ dataset: o.dataset as string, root: o.root });
  const { query, gallery } = await embedForEval({
    checkpoint: checkpointList(o, 'standard')[0] as string,
    arch: o.arch,
    dim,
    dataset,
    silent,
    precision,
  });
  const source = `--checkpoint ${o.checkpoint} on --dataset ${o.dataset}`;
  if (!gallery) {
    return {
      input: query,
      sources: [`${source} (test split)`],
      queryPaths: query.paths,
      galleryPaths: query.paths,
      dispose: () => query.embeddings.dispose(),
    };
  }
  return {
    input: { query, gallery },
    sources: [`${source} (query and gallery splits)`],
    queryPaths: query.paths,
    galleryPaths: gallery.paths,
    dispose: () => {
      query.embeddings.dispose();
      gallery.embeddings.dispose();
    },
  };
}

/** The inputs with L2-normalised embeddings (freed with the inputs). */
function normalized(inputs: Inputs): Inputs {
  const made: Tensor[] = [];
  const unit = (t: Tensor) => {
    const u = scope(() => F.normalize(t.to('float32'), { dim: 1 }));
    made.push(u);
    return u;
  };
  const input = inputs.input;
  const next: EvalInput =
    'query' in input && 'gallery' in input
      ? {
          query: { embeddings: unit(input.query.embeddings), labels: input.query.labels },
          gallery: { embeddings: unit(input.gallery.embeddings), labels: input.gallery.labels },
        }
      : { embeddings: unit(input.embeddings), labels: input.labels };
  return {
    ...inputs,
    input: next,
    dispose: () => {
      for (const t of made) t.dispose();
      inputs.dispose();
    },
  };
}

function writeReport(dir: string, run: EvalRun, inputs: Inputs): string[] {
  const reportDir = resolve(dir);
  try {
    mkdirSync(reportDir, { recursive: true });
  } catch (e) {
    throw new InputError(`--report ${dir}: cannot create the directory (${(e as Error).message})`);
  }
  const ctx = {
    sources: inputs.sources,
    queryPaths: inputs.queryPaths,
    galleryPaths: inputs.galleryPaths,
    reportDir,
  };
  const files = [join(reportDir, 'report.md'), join(reportDir, 'report.html')];
  writeFileAtomic(files[0] as string, reportMarkdown(run, ctx));
  writeFileAtomic(files[1] as string, reportHtml(run, ctx));
  return files;
}

function writeJson(path: string, value: unknown): void {
  try {
    writeFileAtomic(resolve(path), `${JSON.stringify(value, null, 2)}\n`);
  } catch (e) {
    throw new InputError(`--out ${path}: cannot write it (${(e as Error).message})`);
  }
}

const NOT_REALITY_CHECK = [
  ['binary', '--binary'],
  ['nmi', '--nmi'],
  ['mapR', '--map-r'],
  ['k', '--k'],
  ['report', '--report'],
  ['normalize', '--normalize'],
] as const;

async function runRealityCheckEval(o: EvalOptions, mode: Mode, log: (line: string) => void): Promise<void> {
  if (mode === 'pair')
    throw new UsageError('--protocol reality-check: give --checkpoint or --embeddings, not query/gallery files');
  for (const [key, flag] of NOT_REALITY_CHECK) {
    if (o[key] !== undefined && o[key] !== false) {
      throw new UsageError(
        `${flag} does not apply to --protocol reality-check (it reports Precision@1, R-Precision and MAP@R)`,
      );
    }
  }
  const doc = await runRealityCheck({
    checkpoints: checkpointList(o, 'reality-check'),
    embeddings: o.embeddings,
    labels: o.labels,
    arch: o.arch,
    dim: optionalInteger('--dim', o.dim, undefined),
    dataset: o.dataset,
    root: o.root,
    tileSize: o.tileSize === undefined ? undefined : parseInteger('--tile-size', o.tileSize),
    silent: o.json === true,
    precision: mode === 'checkpoint' ? precisionFromFlag(o.precision) : undefined,
  });
  for (const w of doc.warnings) console.error(`warning: ${w}`);
  if (o.out !== undefined) writeJson(o.out, doc);
  if (o.json) log(JSON.stringify(doc));
  else log(formatRealityCheck(doc));
  if (o.out !== undefined && !o.json) log(`wrote ${resolve(o.out)}`);
}

export async function runEval(o: EvalOptions, log: (line: string) => void = console.log): Promise<void> {
  const protocol = o.protocol ?? 'standard';
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new UsageError(`--protocol: expected ${PROTOCOLS.join(' or ')}, got "${protocol}"`);
  }
  const mode = modeOf(o);
  if (o.precision !== undefined && mode !== 'checkpoint') {
    throw new UsageError('--precision: applies to --checkpoint (the forwards that embed the test split)');
  }
  if (protocol === 'reality-check') return runRealityCheckEval(o, mode, log);
  checkpointList(o, protocol);
  const ks = o.k !== undefined ? parseKList(o.k) : recallKs(o.dataset);
  const nmi = o.nmi ? nmiOptions(o) : false;
  const tileSize = o.tileSize === undefined ? undefined : parseInteger('--tile-size', o.tileSize);
  const loaded = mode === 'checkpoint' ? await embedCheckpoint(o, o.json === true) : loadFiles(o, mode);
  const inputs = o.normalize ? normalized(loaded) : loaded;
  try {
    const run = runEvaluation(inputs.input, { k: ks, binary: o.binary, nmi, mapR: o.mapR, tileSize, minNeighbors: 5 });
    const files = o.report !== undefined ? writeReport(o.report, run, inputs) : [];
    if (o.out !== undefined) {
      writeJson(o.out, run.result);
      files.push(resolve(o.out));
    }
    if (o.json) {
      log(JSON.stringify(run.result));
      return;
    }
    log(formatMetricsTable(run.result));
    const s = run.storage;
    if (o.binary)
      log(`storage per item: float32 ${s.floatBytes} bytes, binary ${s.binaryBytes} bytes (${s.ratio.toFixed(0)}x)`);
    for (const f of files) log(`wrote ${f}`);
  } finally {
    inputs.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('Recall@K (float and binary), NMI and MAP@R of embeddings or of a checkpoint')
    .option('--embeddings <file>', 'embeddings .npy [n, d]; searched against themselves (self excluded)')
    .option(
      '--labels <file>',
      'labels: a .npy [n] of integers, or the X.json embed wrote (default: X.json next to --embeddings X.npy)',
    )
    .option('--query-embeddings <file>', 'query embeddings .npy (with a distinct gallery; nothing excluded)')
    .option('--query-labels <file>', 'query labels .npy or .json (default: the .json next to the query .npy)')
    .option('--gallery-embeddings <file>', 'gallery embeddings .npy')
    .option('--gallery-labels <file>', 'gallery labels .npy or .json (default: the .json next to the gallery .npy)')
    .option(
      '--checkpoint <file>',
      'a model checkpoint to embed the test split with (needs --dataset and --root); with --protocol reality-check, one per fold (repeat the flag or separate with commas)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--arch <name>', `architecture of bare --checkpoint weights: ${ARCHS.join(', ')}`)
    .option(
      '--precision <p>',
      'forwards of --checkpoint: fp32 (default), bf16 (autocast; float32 embeddings; fp32 on a CPU without AVX-512 BF16 or AMX, saying why) or auto (bf16 where the CPU has AVX-512 BF16 or AMX)',
    )
    .option('--dim <n>', 'embedding size, when --checkpoint is bare backbone weights')
    .option('--dataset <name>', "data set of --checkpoint; also picks the data set's benchmark K list")
    .option('--root <dir>', 'data set root directory')
    .option('--k <list>', `Recall@K list (default: the data set's, else ${DEFAULT_RECALL_KS.join(',')})`)
    .option('--binary', 'also evaluate binary codes (bit = x > 0, Hamming distance)')
    .option('--nmi', 'NMI of k-means clusters (k = number of classes)')
    .option('--map-r', 'MAP@R and R-Precision')
    .option('--json', 'print one JSON object: {"float": {...}, "binary": {...}}, recall in percent')
    .option('--report <dir>', 'write report.md and report.html (retrieval examples) into DIR')
    .option('--normalize', 'L2-normalise the embeddings first (ours already are)')
    .option('--nmi-iterations <n>', `k-means iterations (default ${KMEANS_DEFAULTS.iterations})`)
    .option('--nmi-restarts <n>', `k-means restarts (default ${KMEANS_DEFAULTS.restarts})`)
    .option(
      '--nmi-method <name>',
      "k-means behind NMI: paper (default, close to the paper's faiss script) or sklearn (scikit-learn's KMeans)",
    )
    .option(
      '--nmi-average <method>',
      'NMI normalisation: geometric or arithmetic (default: geometric for paper, as the reference; arithmetic for sklearn)',
    )
    .option('--seed <n>', 'k-means seed (default 0)')
    .option(
      '--protocol <name>',
      'standard (default) or reality-check: Precision@1, R-Precision and MAP@R of one model per class-disjoint fold, separated (mean +- 95% CI) and concatenated (docs/reality-check.md)',
    )
    .option('--out <file.json>', 'also write the JSON object --json prints to FILE')
    .option('--tile-size <n>', 'rows and columns of one score tile (memory: n^2 * 4 bytes; default 4096)')
    .action((opts: EvalOptions) => runEval(opts));
}
