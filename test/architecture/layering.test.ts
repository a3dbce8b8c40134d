// The house rules of src/ (README, "Layout"): a file imports only from its own floor or below, and no two
// top-level folders import each other (directly or through others). Checked from the import graph.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

export const FLOORS: Record<string, number> = {
  tensor: 0,
  util: 0,
  io: 1,
  nn: 1,
  loss: 1,
  data: 2,
  eval: 2,
  train: 3,
  embed: 3,
  search: 4,
  report: 4,
  experiment: 4,
  parallel: 4,
  cli: 5,
  api: 5,
};

const SRC = resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(name) ? [path] : [];
  });
}

/** Relative specifiers of static imports, re-exports and dynamic imports (comments stripped first). */
export function importsOf(code: string): string[] {
  const stripped = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const m of stripped.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) found.push(m[1] as string);
  return found;
}

const folderOf = (file: string): string => relative(SRC, file).split('/')[0] as string;

interface Edge {
  file: string;
  from: string;
  to: string;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(`${SRC}/`)) continue;
      out.push({ file: relative(SRC, file), from: folderOf(file), to: folderOf(target) });
    }
  }
  return out;
}

test('the import parser sees static, type-only, re-export and dynamic imports, not comments', () => {
  const code = [
    "import { a } from '../a/x.js';",
    "import type { B } from './b.js';",
    "export { c } from '../../c/y.js';",
    "const d = await import('../d/z.js');",
    "// import { e } from '../e/no.js';",
    "/* import { f } from '../f/no.js'; */",
    "import sharp from 'sharp';",
  ].join('\n');
  assert.deepEqual(importsOf(code), ['../a/x.js', './b.js', '../../c/y.js', '../d/z.js']);
});

test('every folder of src/ has a floor', () => {
  const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
  assert.deepEqual(
    folders.filter((f) => FLOORS[f] === undefined),
    [],
  );
});

test('no file imports from a folder on a higher floor', () => {
  const upward = edges()
    .filter((e) => (FLOORS[e.to] as number) > (FLOORS[e.from] as number))
    .map((e) => `${e.file} -> ${e.to}/ (floor ${FLOORS[e.to]} above ${FLOORS[e.from]})`);
  assert.deepEqual(upward, []);
});

test('no cycle between top-level folders', () => {
  const graph = new Map<string, Set<string>>();
  for (const e of edges()) {
    if (e.from === e.to) continue;
    graph.set(e.from, (graph.get(e.from) ?? new Set()).add(e.to));
  }
  const reach = (start: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [...(graph.get(start) ?? [])];
    while (stack.length > 0) {
      const f = stack.pop() as string;
      if (seen.has(f)) continue;
      seen.add(f);
      stack.push(...(graph.get(f) ?? []));
    }
    return seen;
  };
  const cycles = [...graph.keys()].filter((f) => reach(f).has(f));
  assert.deepEqual(cycles, []);
});

test('only src/tensor loads the native addon', () => {
  const direct = sourceFiles(SRC)
    .filter((f) => folderOf(f) !== 'tensor')
    .filter((f) => /tensor\/native\.js|native\/build|\.node['"]/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(SRC, f));
  assert.deepEqual(direct, []);
});

test("the README's layout table names every folder of src/ with its floor, and no other", () => {
  const readme = readFileSync(resolve('README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Layout'), readme.indexOf('\n## ', readme.indexOf('## Layout') + 1));
  const rows = [...section.matchAll(/^\| (\d+) \| `src\/([a-z-]+)` \|/gm)].map((m) => [m[2] as string, Number(m[1])]);
  assert.deepEqual(Object.fromEntries(rows), FLOORS);
  const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
  assert.deepEqual([...folders].sort(), Object.keys(FLOORS).sort());
});
