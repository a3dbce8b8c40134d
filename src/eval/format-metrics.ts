// The one way metrics are shown: a table with a row per metric (R@K in %, NMI, MAP@R and R-Precision x 100)
// and a column per kind of embedding (float, binary), as plain text, markdown or HTML, and a one-line form
// for logs. Used by `eval`, `train`, the demo, the trainer's log and the reports.
import { escapeHtml } from '../util/html.js';

export interface MetricSet {
  /** Recall@K in percent, keyed by K. */
  recall: Record<string, number>;
  /** In [0, 1]. */
  nmi?: number;
  mapAtR?: number;
  rPrecision?: number;
}

export interface MetricResult {
  float: MetricSet;
  binary?: MetricSet;
}

export interface MetricTable {
  /** 'metric', 'float' and, when binary codes were evaluated, 'binary'. */
  head: string[];
  /** [name, float value, binary value?]; a metric not computed for a kind is ''. */
  rows: string[][];
}

const percent = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : v.toFixed(2));
const times100 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : (100 * v).toFixed(2));

export function metricTable(r: MetricResult): MetricTable {
  const kinds = r.binary ? [r.float, r.binary] : [r.float];
  const row = (name: string, value: (m: MetricSet) => string) => [name, ...kinds.map(value)];
  const rows = Object.keys(r.float.recall).map((k) => row(`R@${k} (%)`, (m) => percent(m.recall[k])));
  if (r.float.nmi !== undefined) rows.push(row('NMI (x100)', (m) => times100(m.nmi)));
  if (r.float.mapAtR !== undefined) {
    rows.push(row('MAP@R (x100)', (m) => times100(m.mapAtR)));
    rows.push(row('R-Precision (x100)', (m) => times100(m.rPrecision)));
  }
  return { head: ['metric', 'float', ...(r.binary ? ['binary'] : [])], rows };
}

/** For the terminal: names left-aligned, values right-aligned, two spaces between columns. */
export function formatMetricsTable(r: MetricResult): string {
  const { head, rows } = metricTable(r);
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function metricsMarkdown(r: MetricResult): string {
  const { head, rows } = metricTable(r);
  return [
    `| ${head.join(' | ')} |`,
    `| --- |${' ---: |'.repeat(head.length - 1)}`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

export function metricsHtml(r: MetricResult): string {
  const { head, rows } = metricTable(r);
  const cells = (tag: string, row: string[]) => row.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('');
  return [
    '<table>',
    `<tr>${cells('th', head)}</tr>`,
    ...rows.map((row) => `<tr>${cells('td', row)}</tr>`),
    '</table>',
  ].join('\n');
}

/** One line for logs: "float R@1 65.40  R@2 ...  NMI 55.10 | binary R@1 ...". */
export function formatMetricsLine(r: MetricResult): string {
  const one = (m: MetricSet) =>
    [
      ...Object.entries(m.recall).map(([k, v]) => `R@${k} ${v.toFixed(2)}`),
      ...(m.nmi === undefined ? [] : [`NMI ${times100(m.nmi)}`]),
      ...(m.mapAtR === undefined ? [] : [`MAP@R ${times100(m.mapAtR)}`]),
    ].join('  ');
  return `float ${one(r.float)}${r.binary ? ` | binary ${one(r.binary)}` : ''}`;
}
