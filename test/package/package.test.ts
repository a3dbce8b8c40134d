// normsoftmax as a package another project installs (`npm install /path/to/normsoftmax`, offline): plain Node
// imports it without tsx, through the exports map, into the compiled JavaScript; a TypeScript file doing the
// same typechecks against the shipped .d.ts (and a misuse does not). The README's example runs as written,
// on an index this test builds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { normaliseRows } from '../../src/search/precision.js';
import type { ItemMeta } from '../../src/search/types.js';
import { writeUsearchIndex as writeIndex } from '../../src/search/usearch/write.js';
import { REPO_ROOT } from '../helpers/cli.js';

const project = mkdtempSync(join(tmpdir(), 'normsoftmax-consumer-'));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function run(cmd: string, args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: project, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
  );
  const npm = run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', REPO_ROOT]);
  assert.equal(npm.code, 0, npm.stderr);
  // An index shaped like the demo's: ids fashion-mnist:test/N, 5 labels.
  const n = 50;
  const dim = 16;
  let s = 7;
  const x = Float32Array.from({ length: n * dim }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
  const items: ItemMeta[] = Array.from({ length: n }, (_, i) => ({
    id: `fashion-mnist:test/${i}`,
    path: null,
    label: ['sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'][i % 5] as string,
    size: null,
    hash: null,
  }));
  mkdirSync(join(project, 'runs', 'demo'), { recursive: true });
  await writeIndex(
    join(project, 'runs', 'demo', 'index'),
    { items, dim, vectors: normaliseRows(x, dim) },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: { checkpointSha256: null, checkpointPath: null, arch: null, dim, input: null, resize: 0, crop: 0 },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
});
after(() => rmSync(project, { recursive: true, force: true }));

/** The code blocks of the README's Library section, in order. */
function readmeLibraryBlocks(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Library\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```(?:js|ts)\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

const EXAMPLE = `import { openIndex } from 'normsoftmax';
const index = await openIndex('runs/demo/index');
const { results } = await index.search({ id: 'fashion-mnist:test/0', k: 3 });
console.log(results[0].id);   // fashion-mnist:test/0
await index.close();
`;

test("the README's example runs in plain Node from a fresh project (no tsx): the item finds itself", () => {
  writeFileSync(join(project, 'example.mjs'), EXAMPLE);
  const r = run(process.execPath, ['example.mjs']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'fashion-mnist:test/0\n');
  assert.equal(r.stderr, '');
});

test('evaluate, search with a filter, and the subpath exports, from plain Node', () => {
  writeFileSync(
    join(project, 'more.mjs'),
    `import { evaluate, openIndex } from 'normsoftmax';
import { tensor } from 'normsoftmax/tensor';
import { createEmbedder } from 'normsoftmax/nn';
import { compileWhere } from 'normsoftmax/search';
// Two classes, two points each: every point's nearest other point is of its class (R@1 = 100).
const r = evaluate({ vectors: [[1, 0], [0.9, 0.1], [0.1, 0.9], [0, 1]], labels: [0, 0, 1, 1] }, { k: [1] });
const index = await openIndex('runs/demo/index');
const { results } = await index.search({ id: 'fashion-mnist:test/3', k: 4, where: "label = 'bag'" });
await index.close();
const where = compileWhere("label LIKE 'b%'")({ id: 'x', path: null, label: 'bag' });
console.log(JSON.stringify({ r1: r.float.recall['1'], labels: results.map((h) => h.label), t: tensor([1, 2]).shape, e: typeof createEmbedder, where }));
`,
  );
  const r = run(process.execPath, ['more.mjs']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    r1: 100,
    labels: ['bag', 'bag', 'bag', 'bag'],
    t: [2],
    e: 'function',
    where: true,
  });
  writeFileSync(
    join(project, 'api.mjs'),
    "import * as api from 'normsoftmax'; console.log(Object.keys(api).sort().join(' '));",
  );
  const api = run(process.execPath, ['api.mjs']);
  assert.equal(api.stdout, 'buildIndex embedImages evaluate loadEmbedder openIndex serve train\n', api.stderr);
  // Only the exports are reachable: the sources are not part of the API.
  writeFileSync(join(project, 'deep.mjs'), "await import('normsoftmax/src/tensor/index.js');");
  const deep = run(process.execPath, ['deep.mjs']);
  assert.notEqual(deep.code, 0);
  assert.match(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
});

test("the README's Library section shows the example as it runs here", () => {
  const blocks = readmeLibraryBlocks();
  assert.equal(blocks.length, 2);
  assert.equal(blocks[0], EXAMPLE);
});

test('TypeScript: the same example typechecks against the shipped .d.ts; a misuse is a type error', () => {
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      files: ['example.ts'],
    }),
  );
  writeFileSync(join(project, 'example.ts'), EXAMPLE);
  const ok = run(process.execPath, [TSC, '-p', '.']);
  assert.equal(ok.code, 0, ok.stdout);
  writeFileSync(join(project, 'example.ts'), `${EXAMPLE}await index.search({ id: 'x', k: '3' });\n`);
  const bad = run(process.execPath, [TSC, '-p', '.']);
  assert.equal(bad.code, 2);
  assert.match(bad.stdout, /example\.ts\(6,.*Type 'string' is not assignable to type 'number'/);
  // The README's training loop over the subpaths (tensor, nn, loss, optim) typechecks too.
  writeFileSync(join(project, 'example.ts'), readmeLibraryBlocks()[1] as string);
  const loop = run(process.execPath, [TSC, '-p', '.']);
  assert.equal(loop.code, 0, loop.stdout);
});
