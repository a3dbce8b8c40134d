// `data check`: counts per split and every problem in a dataset: files that are missing or not readable as
// images, classes the lists declare without images, paths listed twice, lists that contradict themselves.
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { firstLine } from '../util/errors.js';
import { type LoadedDataset, splitNames } from './formats/index.js';
import type { SplitName } from './types.js';

export type ProblemKind = 'missing file' | 'unreadable image' | 'empty class' | 'duplicate path' | 'list mismatch';

export interface DatasetProblem {
  kind: ProblemKind;
  detail: string;
}

export interface SplitSummary {
  split: SplitName;
  images: number;
  classes: number;
}

export interface CheckReport {
  dataset: string;
  root: string;
  splits: SplitSummary[];
  problems: DatasetProblem[];
  notes: string[];
}

export interface CheckOptions {
  /** Only these splits (default: all of the dataset's). */
  splits?: SplitName[];
  /** Decode every image fully instead of reading only its header (slower; finds truncated files). */
  decode?: boolean;
  /** Images examined at once. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

// Query and gallery may share images (a CSV row can be both); any other pair of splits must be disjoint.
const MAY_SHARE = new Set(['query|gallery', 'gallery|query']);

export async function checkDataset(dataset: LoadedDataset, opts: CheckOptions = {}): Promise<CheckReport> {
  const splits = opts.splits ?? splitNames(dataset);
  const problems: DatasetProblem[] = dataset.listProblems.map((p) => ({ ...p }));
  const summaries: SplitSummary[] = [];
  const splitsOf = new Map<string, SplitName[]>();

  for (const split of splits) {
    const samples = dataset.splits[split] ?? [];
    summaries.push({ split, images: samples.length, classes: new Set(samples.map((s) => s.label)).size });
    const seen = new Map<string, number>();
    for (const s of samples) seen.set(s.path, (seen.get(s.path) ?? 0) + 1);
    for (const [path, times] of seen) {
      if (times > 1) problems.push({ kind: 'duplicate path', detail: `${path} is listed ${times} times in ${split}` });
      const list = splitsOf.get(path) ?? [];
      list.push(split);
      splitsOf.set(path, list);
    }
  }
  for (const [path, list] of splitsOf) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        if (!MAY_SHARE.has(`${list[i]}|${list[j]}`)) {
          problems.push({ kind: 'duplicate path', detail: `${path} is in both ${list[i]} and ${list[j]}` });
        }
      }
    }
  }

  const paths = [...splitsOf.keys()];
  const examine = dataset.readRaw ? rawExaminer(dataset) : fileExaminer(opts.decode ?? false);
  const found = await inPool(paths, opts.concurrency ?? 16, examine, opts.onProgress);
  for (const p of found) if (p) problems.push(p);

  return { dataset: dataset.name, root: dataset.root, splits: summaries, problems, notes: dataset.notes ?? [] };
}

type Examiner = (path: string) => Promise<DatasetProblem | undefined>;

function fileExaminer(decode: boolean): Examiner {
  return async (path) => {
    try {
      const info = await stat(path);
      if (!info.isFile()) return { kind: 'missing file', detail: `${path} is not a file` };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return { kind: 'missing file', detail: code === 'ENOENT' ? path : `${path} (${code})` };
    }
    try {
      if (decode) await sharp(path, { failOn: 'truncated' }).raw().toBuffer();
      else await sharp(path).metadata();
      return undefined;
    } catch (e) {
      return { kind: 'unreadable image', detail: `${path}: ${firstLine(e)}` };
    }
  };
}

function rawExaminer(dataset: LoadedDataset): Examiner {
  const labelOf = new Map<string, number>();
  for (const samples of Object.values(dataset.splits)) for (const s of samples) labelOf.set(s.path, s.label);
  return async (path) => {
    try {
      const raw = dataset.readRaw!({ path, label: labelOf.get(path) ?? 0 });
      if (raw.data.length !== raw.width * raw.height * raw.channels) {
        return {
          kind: 'unreadable image',
          detail: `${path}: ${raw.data.length} bytes for ${raw.width}x${raw.height}x${raw.channels}`,
        };
      }
      return undefined;
    } catch (e) {
      return { kind: 'unreadable image', detail: `${path}: ${firstLine(e)}` };
    }
  };
}

/** Runs `fn` over `items` with at most `width` in flight; results in input order. */
async function inPool<T, R>(
  items: T[],
  width: number,
  fn: (item: T) => Promise<R>,
  onProgress?: (done: number, total: number) => void,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
      onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
  return results;
}

/** The report as lines for a terminal: a table of counts, notes, then every problem. */
export function formatReport(report: CheckReport): string[] {
  const lines = [
    `${report.dataset}: ${report.root}`,
    `${'split'.padEnd(8)} ${'images'.padStart(8)} ${'classes'.padStart(8)}`,
  ];
  for (const s of report.splits) {
    lines.push(`${s.split.padEnd(8)} ${String(s.images).padStart(8)} ${String(s.classes).padStart(8)}`);
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  if (report.problems.length === 0) {
    lines.push('no problems found');
    return lines;
  }
  lines.push(`${report.problems.length} ${report.problems.length === 1 ? 'problem' : 'problems'}:`);
  for (const p of report.problems) lines.push(`  ${p.kind}: ${p.detail}`);
  return lines;
}
