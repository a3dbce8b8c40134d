// How a Reality Check is shown: a plain-text table (one row per metric: each model, the separated mean
// +- 95% confidence interval, the concatenated embeddings) and the JSON document `eval --json` prints.
import type { RealityCheckMetric, RealityCheckMetrics, RealityCheckResult } from './reality-check.js';
import { REALITY_CHECK_METRICS } from './reality-check.js';

const NAMES: Record<RealityCheckMetric, string> = {
  precisionAt1: 'Precision@1 (%)',
  rPrecision: 'R-Precision (%)',
  mapAtR: 'MAP@R (%)',
};

export interface RealityCheckModel {
  /** The checkpoint (or embeddings file) the model's embeddings came from. */
  source: string;
  folds?: number;
  fold?: number;
}

export interface RealityCheckDocument {
  protocol: 'reality-check';
  dataset?: string;
  queries: number;
  models: (RealityCheckModel & RealityCheckMetrics)[];
  separated?: RealityCheckResult['separated'];
  concatenated?: RealityCheckMetrics;
  warnings: string[];
}

export function realityCheckDocument(
  result: RealityCheckResult,
  models: readonly RealityCheckModel[],
  o: { dataset?: string; warnings: string[] },
): RealityCheckDocument {
  return {
    protocol: 'reality-check',
    ...(o.dataset !== undefined ? { dataset: o.dataset } : {}),
    queries: result.queries,
    models: result.models.map((m, i) => ({ ...(models[i] as RealityCheckModel), ...m })),
    ...(result.separated ? { separated: result.separated } : {}),
    ...(result.concatenated ? { concatenated: result.concatenated } : {}),
    warnings: o.warnings,
  };
}

function modelName(m: RealityCheckModel, i: number): string {
  return m.folds !== undefined && m.fold !== undefined ? `fold ${m.fold}` : `model ${i + 1}`;
}

/** Rows of text: metric, one column per model, then separated and concatenated when there are several. */
export function formatRealityCheck(doc: RealityCheckDocument): string {
  const head = ['metric', ...doc.models.map(modelName)];
  if (doc.separated) head.push('separated (mean +- 95% CI)');
  if (doc.concatenated) head.push('concatenated');
  const rows = REALITY_CHECK_METRICS.map((key) => {
    const row = [NAMES[key], ...doc.models.map((m) => m[key].toFixed(2))];
    const s = doc.separated?.[key];
    if (s) row.push(`${s.mean.toFixed(2)} +- ${s.ci95 === null ? '?' : s.ci95.toFixed(2)}`);
    if (doc.concatenated) row.push(doc.concatenated[key].toFixed(2));
    return row;
  });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number)))
      .join('  ')
      .trimEnd();
  const lines = [line(head), ...rows.map(line)];
  lines.push(`Reality Check (Musgrave et al. 2020): ${doc.queries} queries, query set = gallery, self excluded`);
  for (const m of doc.models.entries()) lines.push(`${modelName(m[1], m[0])}: ${m[1].source}`);
  return lines.join('\n');
}
