// The study's plot: Recall@1 of the float and the binary embeddings against the grid's variable (a log
// axis for sizes, temperatures and fractions; categories in grid order for the LayerNorm and loss studies),
// rendered to SVG offline with vega-lite + vega as src/report/plot.ts does.
import * as vega from 'vega';
import type * as vl from 'vega-lite';
import { compile } from 'vega-lite';
import type { StudyGrid } from './grids.js';
import { type StudyResults, settingLabel } from './results.js';

export async function studyPlotSvg(
  r: StudyResults,
  grid: Pick<StudyGrid, 'title' | 'axis' | 'points'>,
): Promise<string> {
  const category = grid.axis === 'category';
  const xOf = (v: unknown) => (category ? settingLabel(v as string, r.variable) : Number(v));
  const values = r.rows.flatMap((row) =>
    (['float', 'binary'] as const).map((kind) => ({
      x: xOf(row.setting[r.variable]),
      kind,
      recall: row[kind].recall['1'] ?? null,
    })),
  );
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${r.study} on ${r.dataset}: ${grid.title}`,
    width: 420,
    height: 260,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: category
        ? {
            field: 'x',
            type: 'nominal',
            title: r.variable,
            sort: grid.points.map((p) => settingLabel(p.setting[r.variable], r.variable)),
            axis: { labelAngle: 0 },
          }
        : { field: 'x', type: 'quantitative', title: r.variable, scale: { type: 'log' } },
      y: { field: 'recall', type: 'quantitative', title: 'Recall@1 (%)', scale: { zero: false } },
      color: { field: 'kind', type: 'nominal', title: null, sort: ['float', 'binary'] },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
