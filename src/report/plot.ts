// Line plots rendered to SVG offline with vega-lite + vega (no browser, no network).
import * as vega from 'vega';
import * as vl from 'vega-lite';

export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

export interface LinePlot {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Log scale on y (e.g. loss). */
  logY?: boolean;
}

export async function lineChartSvg(p: LinePlot): Promise<string> {
  const values = p.series.flatMap((s) => s.points.map((pt) => ({ series: s.name, x: pt.x, y: pt.y })));
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: p.title,
    width: p.width ?? 480,
    height: p.height ?? 260,
    data: { values },
    mark: { type: 'line', point: values.length <= 200 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: p.xLabel },
      y: {
        field: 'y',
        type: 'quantitative',
        title: p.yLabel,
        scale: p.logY ? { type: 'log' } : { zero: false },
      },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
