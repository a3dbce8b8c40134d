// The records a training run appends to OUT/metrics.jsonl (one JSON object a line). A run killed while
// appending leaves a torn last line: readers drop it (a resumed run rewrites the file without it).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { asDiskFull } from '../io/disk-full.js';
import { FormatError } from '../util/errors.js';
import { faultPoint } from '../util/fault.js';

export interface RecallSet {
  recall: Record<string, number>;
  nmi?: number;
  mapAtR?: number;
  rPrecision?: number;
}

export interface EvalRecord {
  float: RecallSet;
  binary?: RecallSet;
}

export interface StepRecord {
  type: 'step';
  epoch: number;
  step: number;
  loss: number;
  lr: number;
}

export interface EpochRecord {
  type: 'epoch';
  /** 1-based; warm-up epochs come first. */
  epoch: number;
  phase: 'warmup' | 'train';
  loss: number;
  lr: number;
  imagesPerSecond: number;
  seconds: number;
  /** Batches without a valid triplet (their loss is zero; counted in `loss`). */
  emptyBatches?: number;
  /** Batches whose loss was not finite: skipped, no update (not counted in `loss`). */
  skippedBatches?: number;
  eval?: EvalRecord;
}

export type MetricsRecord = StepRecord | EpochRecord;

export function appendMetrics(path: string, record: MetricsRecord): void {
  const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
  try {
    appendFileSync(path, line.subarray(0, line.length >> 1));
    faultPoint('train:mid-metrics');
    appendFileSync(path, line.subarray(line.length >> 1));
  } catch (e) {
    throw asDiskFull(e, path);
  }
}

/** The records of a metrics file; a torn last line (no newline, not JSON) is dropped, any other bad line refused. */
export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const records: MetricsRecord[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as MetricsRecord);
    } catch {
      if (i === lines.length - 1) break; // the last line, without its newline: an interrupted append
      throw new FormatError(path, `line ${i + 1} is not a JSON record`);
    }
  }
  return records;
}
