// The evaluation report: a markdown table of the metrics and an HTML page adding retrieval examples
// (a query and its top 5, each marked correct or incorrect; with images when their paths are known).
import { isAbsolute, relative, sep } from 'node:path';
import { escapeHtml } from '../util/html.js';
import type { EvalRun } from './evaluate.js';
import { metricsHtml, metricsMarkdown } from './format-metrics.js';
import { neighborRow } from './neighbors.js';
import { describeNmiMethod } from './nmi.js';

export interface ReportContext {
  /** Where the embeddings came from, shown in the header. */
  sources: string[];
  /** Image path of each query / gallery row (absolute), when known. */
  queryPaths?: string[];
  galleryPaths?: string[];
  /** The directory the HTML page is written to: images are linked relative to it. */
  reportDir: string;
  /** Queries shown as examples. */
  examples?: number;
}

export const EXAMPLE_TOP = 5;

function describe(run: EvalRun): string[] {
  const s = run.storage;
  const lines = [
    run.selfRetrieval
      ? `${run.queries} items searched against each other (query set = gallery, each query excluded from its own results)`
      : `${run.queries} queries against a gallery of ${run.galleryItems} (distinct sets, nothing excluded)`,
    `dimension ${run.dimension}: ${s.floatBytes} bytes per float32 embedding` +
      (run.result.binary ? `, ${s.binaryBytes} bytes per binary code (${s.ratio.toFixed(0)}x smaller)` : ''),
    `time: float ${run.seconds.float.toFixed(2)} s` +
      (run.seconds.binary !== undefined ? `, binary ${run.seconds.binary.toFixed(2)} s` : '') +
      (run.seconds.nmi !== undefined ? `, k-means + NMI ${run.seconds.nmi.toFixed(2)} s` : ''),
    'ties: equal scores or Hamming distances are ordered by gallery index (ascending)',
  ];
  const nmi = run.result.nmiMethod;
  if (nmi) lines.push(describeNmiMethod(nmi.method, nmi.average));
  return lines;
}

export function reportMarkdown(run: EvalRun, ctx: ReportContext): string {
  const lines = [
    '# normsoftmax evaluation',
    '',
    ...ctx.sources.map((s) => `- ${s}`),
    ...describe(run).map((l) => `- ${l}`),
    '',
    metricsMarkdown(run.result),
    '',
  ];
  return lines.join('\n');
}

function imageUrl(path: string, reportDir: string): string {
  return relative(reportDir, path).split(sep).map(encodeURIComponent).join('/');
}

/** Evenly spaced example queries. */
export function exampleQueries(n: number, count: number): number[] {
  const c = Math.min(n, count);
  return Array.from({ length: c }, (_, i) => Math.floor((i * n) / c));
}

function card(label: string, caption: string, path: string | undefined, ctx: ReportContext, mark?: boolean): string {
  const cls = mark === undefined ? 'query' : mark ? 'hit' : 'miss';
  // Virtual ids of in-memory images (e.g. "fashion-mnist:test/17") are not files: no picture.
  const picture =
    path !== undefined && isAbsolute(path)
      ? `<img src="${escapeHtml(imageUrl(path, ctx.reportDir))}" alt="${escapeHtml(label)}" loading="lazy">`
      : `<div class="noimg">${escapeHtml(label)}</div>`;
  const sign = mark === undefined ? '' : mark ? '&#10003; ' : '&#10007; ';
  return `<figure class="${cls}">${picture}<figcaption>${sign}${escapeHtml(caption)}</figcaption></figure>`;
}

function examplesHtml(run: EvalRun, ctx: ReportContext, kind: 'float' | 'binary'): string {
  const nb = run.neighbors[kind];
  if (!nb) return '';
  const out: string[] = [`<h2>Retrieval examples (${kind}, top ${EXAMPLE_TOP})</h2>`];
  for (const q of exampleQueries(run.queries, ctx.examples ?? 8)) {
    const want = run.queryLabels[q] as number;
    const className = (code: number) => String(run.classNames[code]);
    const cells = [card(`query ${q}`, `query ${q} · class ${className(want)}`, ctx.queryPaths?.[q], ctx)];
    let rank = 0;
    for (const j of neighborRow(nb, q, EXAMPLE_TOP)) {
      rank++;
      const key = nb.keys[q * nb.k + rank - 1] as number;
      const score = kind === 'float' ? `score ${key.toFixed(3)}` : `distance ${key}`;
      const caption = `#${rank} item ${j} · class ${className(run.galleryLabels[j] as number)} · ${score}`;
      cells.push(card(`item ${j}`, caption, ctx.galleryPaths?.[j], ctx, run.galleryLabels[j] === want));
    }
    out.push(`<div class="row">${cells.join('')}</div>`);
  }
  return out.join('\n');
}

export function reportHtml(run: EvalRun, ctx: ReportContext): string {
  const notes = [...ctx.sources, ...describe(run)].map((l) => `<li>${escapeHtml(l)}</li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>normsoftmax evaluation</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}
.row{display:flex;gap:10px;margin:14px 0;align-items:flex-start}
figure{margin:0;width:150px;border:4px solid #999;padding:2px;font-size:12px}
figure img,.noimg{width:100%;height:130px;object-fit:contain;background:#f4f4f4;display:flex;align-items:center;justify-content:center}
figure.query{border-color:#36c}figure.hit{border-color:#2a2}figure.miss{border-color:#d33}
figcaption{padding-top:3px;text-align:center}
</style></head><body>
<h1>normsoftmax evaluation</h1>
<ul>
${notes}
</ul>
${metricsHtml(run.result)}
${examplesHtml(run, ctx, 'float')}
${examplesHtml(run, ctx, 'binary')}
</body></html>
`;
}
