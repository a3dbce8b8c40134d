// The HTML page of a training run: loss and Recall@K curves plus the final table.
import { metricsHtml } from '../eval/format-metrics.js';
import type { EpochRecord, MetricsRecord, StepRecord } from '../train/metrics.js';
import { escapeHtml } from '../util/html.js';
import { lineChartSvg } from './plot.js';

export async function trainingReportHtml(
  title: string,
  records: MetricsRecord[],
  notes: string[] = [],
): Promise<string> {
  const steps = records.filter((r): r is StepRecord => r.type === 'step');
  const epochs = records.filter((r): r is EpochRecord => r.type === 'epoch');
  const evals = epochs.filter((e) => e.eval);
  const lossSvg = await lineChartSvg({
    title: 'Training loss',
    xLabel: 'step',
    yLabel: 'loss',
    series: [{ name: 'loss', points: steps.map((s) => ({ x: s.step, y: s.loss })) }],
  });
  const recallSeries = [];
  const ks = Object.keys(evals[0]?.eval?.float.recall ?? {});
  for (const kind of ['float', 'binary'] as const) {
    for (const k of ks) {
      const points = evals
        .filter((e) => e.eval?.[kind])
        .map((e) => ({ x: e.epoch, y: e.eval?.[kind]?.recall[k] ?? 0 }));
      if (points.length > 0) recallSeries.push({ name: `${kind} R@${k}`, points });
    }
  }
  const recallSvg =
    recallSeries.length > 0
      ? await lineChartSvg({
          title: 'Zero-shot Recall@K (%)',
          xLabel: 'epoch',
          yLabel: 'Recall@K',
          series: recallSeries,
        })
      : '<p>No evaluation yet.</p>';
  const last = evals[evals.length - 1]?.eval;
  const table = last
    ? `<h2>Final zero-shot retrieval (epoch ${evals[evals.length - 1]?.epoch})</h2>\n${metricsHtml(last)}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}
.plots{display:flex;flex-wrap:wrap;gap:2rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${notes.map((n) => `<p>${escapeHtml(n)}</p>`).join('\n')}
${table}
<div class="plots"><div>${lossSvg}</div><div>${recallSvg}</div></div>
<h2>Epochs</h2>
<table><tr><th>epoch</th><th>phase</th><th>loss</th><th>lr</th><th>images/s</th><th>seconds</th></tr>
${epochs
  .map(
    (e) =>
      `<tr><td>${e.epoch}</td><td>${e.phase}</td><td>${e.loss.toFixed(4)}</td><td>${e.lr.toExponential(2)}</td><td>${e.imagesPerSecond.toFixed(1)}</td><td>${e.seconds.toFixed(1)}</td></tr>`,
  )
  .join('\n')}
</table></body></html>
`;
}
