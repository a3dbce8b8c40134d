// What a study writes: one result file per finished point (OUT/<point>/result.json) and, after every point,
// OUT/results.json (the rows so far), OUT/results.md (a table) and OUT/results.svg (a plot).
import { existsSync, readFileSync } from 'node:fs';
import type { TrainConfig } from '../train/config.js';
import type { RecallSet } from '../train/metrics.js';
import type { SettingValue, StudyGrid } from './grids.js';

export interface StudyRow {
  /** The point's run folder under OUT. */
  point: string;
  setting: Record<string, SettingValue>;
  /** Recall@K in percent keyed by K (and NMI in [0, 1] when computed). */
  float: RecallSet;
  binary: RecallSet;
  /** Seconds spent in training epochs (evaluation excluded), over all sessions of the point. */
  trainSeconds: number;
  /** trainSeconds per training step (batch). */
  stepSeconds: number;
  steps: number;
  epochs: number;
}

/** OUT/<point>/result.json: the row and the exact configuration it was trained with. */
export interface PointResult {
  row: StudyRow;
  config: TrainConfig;
}

export interface StudyResults {
  study: string;
  dataset: string;
  budget: string;
  /** The grid's variable (the setting key of every row). */
  variable: string;
  /** Points in the grid; rows holds the finished ones, in grid order. */
  points: number;
  /** The base configuration the grid was applied to. */
  base: TrainConfig;
  rows: StudyRow[];
}

export const POINT_RESULT = 'result.json';

/** A point's result when its file is complete; null when it is missing or was cut short. */
export function readPointResult(path: string): PointResult | null {
  if (!existsSync(path)) return null;
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as Partial<PointResult>;
    const row = doc.row;
    if (!row || !doc.config || typeof row.float?.recall?.['1'] !== 'number') return null;
    if (typeof row.binary?.recall?.['1'] !== 'number' || typeof row.trainSeconds !== 'number') return null;
    return doc as PointResult;
  } catch {
    return null;
  }
}

const fixed = (v: number | undefined, digits: number) =>
  v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits);

function epochsText(c: TrainConfig): string {
  const main = c.epochsPerStep * c.numSteps;
  const cap =
    c.maxBatchesPerEpoch > 0
      ? ` (at most ${c.maxBatchesPerEpoch} batch${c.maxBatchesPerEpoch === 1 ? '' : 'es'} each)`
      : '';
  return `${c.warmupEpochs > 0 ? `${c.warmupEpochs} warm-up + ` : ''}${main} epoch${main === 1 ? '' : 's'}${cap}`;
}

export function settingLabel(value: SettingValue | undefined, variable: string): string {
  if (variable === 'layerNorm') return value === false ? 'without' : 'with';
  if (variable === 'freezeBackbone') return value === true ? 'frozen' : 'fine-tuned';
  return String(value);
}

/** The markdown table: one row per finished point, R@K float and binary, NMI, times. */
export function resultsMarkdown(r: StudyResults, grid: Pick<StudyGrid, 'title'>): string {
  const ks = r.rows.length > 0 ? Object.keys(r.rows[0]?.float.recall ?? {}) : r.base.k.map(String);
  const nmi = r.rows.some((row) => row.float.nmi !== undefined);
  const head = [
    r.variable,
    ...ks.map((k) => `R@${k} float`),
    ...ks.map((k) => `R@${k} binary`),
    ...(nmi ? ['NMI'] : []),
    'train s',
    'step ms',
  ];
  const lines = [
    `# ${r.study}: ${grid.title} on ${r.dataset} (${r.budget} budget)`,
    '',
    `${r.rows.length} of ${r.points} points finished. Recall@K in %${nmi ? ', NMI x 100' : ''}, on the test classes; ` +
      `base: ${r.base.arch}, dim ${r.base.dim}, loss ${r.base.loss}, T ${r.base.temperature}, lr ${r.base.lr}, ` +
      `${epochsText(r.base)} of batches of ${r.base.batchSize} (${r.base.imagesPerClass} per class).`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const row of r.rows) {
    const cells = [
      settingLabel(row.setting[r.variable], r.variable),
      ...ks.map((k) => fixed(row.float.recall[k], 2)),
      ...ks.map((k) => fixed(row.binary.recall[k], 2)),
      ...(nmi ? [row.float.nmi === undefined ? '' : fixed(100 * row.float.nmi, 2)] : []),
      fixed(row.trainSeconds, 1),
      fixed(1000 * row.stepSeconds, 1),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
