// The records a training run appends to OUT/metrics.jsonl (one JSON object a line).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

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
  appendFileSync(path, `${JSON.stringify(record)}\n`);
}

export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as MetricsRecord);
}
