// Line plots as SVG (vega-lite rendered offline): the data end up where the scales put them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineChartSvg } from '../../src/report/plot.js';

/** The (x, y) vertices of each line mark, by series name (vega labels each path with its first datum). */
function lines(svg: string): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const m of svg.matchAll(
    /<path aria-label="[^"]*series: ([^"]+)" [^>]*aria-roledescription="line mark" d="([^"]+)"/g,
  )) {
    const vertices = [...(m[2] as string).matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map(
      (v) => [Number(v[1]), Number(v[2])] as [number, number],
    );
    out.set(m[1] as string, vertices);
  }
  return out;
}

const texts = (svg: string) => [...svg.matchAll(/>([^<>]+)<\/text>/g)].map((m) => m[1]);
const close = (a: number, b: number) => Math.abs(a - b) < 0.01;

test('each series is one line through its points, scaled to the plot; titles and legend are the given ones', async () => {
  const svg = await lineChartSvg({
    title: 'Loss <per step>',
    xLabel: 'step',
    yLabel: 'loss',
    width: 480,
    height: 260,
    series: [
      {
        name: 'train',
        points: [
          { x: 0, y: 1 },
          { x: 1, y: 2 },
          { x: 2, y: 0.5 },
        ],
      },
      {
        name: 'val',
        points: [
          { x: 0, y: 3 },
          { x: 2, y: 4 },
        ],
      },
    ],
  });
  assert.match(svg, /^<svg /);
  const t = texts(svg);
  for (const label of ['Loss &lt;per step&gt;', 'step', 'loss', 'train', 'val']) assert.ok(t.includes(label), label);
  const byName = lines(svg);
  assert.deepEqual([...byName.keys()], ['train', 'val']);
  // x: [0, 2] -> [0, 480]; y: [0.5, 4] (not from zero) -> [260, 0].
  const at = (x: number, y: number): [number, number] => [(480 * x) / 2, (260 * (4 - y)) / 3.5];
  const expect = { train: [at(0, 1), at(1, 2), at(2, 0.5)], val: [at(0, 3), at(2, 4)] };
  for (const [name, want] of Object.entries(expect)) {
    const got = byName.get(name) as [number, number][];
    assert.equal(got.length, want.length, name);
    got.forEach(([x, y], i) => {
      const [wx, wy] = want[i] as [number, number];
      assert.ok(close(x, wx) && close(y, wy), `${name} vertex ${i}: (${x}, ${y}) vs (${wx}, ${wy})`);
    });
  }
});

test('logY spaces powers of ten evenly', async () => {
  const svg = await lineChartSvg({
    title: 'loss',
    xLabel: 'step',
    yLabel: 'loss',
    logY: true,
    series: [
      {
        name: 'loss',
        points: [
          { x: 0, y: 100 },
          { x: 1, y: 10 },
          { x: 2, y: 1 },
        ],
      },
    ],
  });
  const ys = (lines(svg).get('loss') as [number, number][]).map(([, y]) => y);
  assert.equal(ys.length, 3);
  assert.ok(close(ys[1]! - ys[0]!, ys[2]! - ys[1]!) && ys[1]! > ys[0]!, `log spacing: ${ys.join(', ')}`);
});
