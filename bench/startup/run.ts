// Start-up of the `normsoftmax` command (issue 19): the wall time of `--version`, `--help` and a search by id
// on an index shaped like the demo's (35,000 x 128, `search --index IDX --id fashion-mnist:test/0 -k 5`),
// each against `node -e 0` measured in the same run, interleaved, median of N. Targets: --version and --help
// within 3x node's own start, the search within 1 s. Prints one JSON object.
// Usage: node --import tsx bench/startup/run.ts [--quick]   (--quick: 3 runs each)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { normaliseRows } from '../../src/search/precision.js';
import type { ItemMeta } from '../../src/search/types.js';
import { writeUsearchIndex as writeIndex } from '../../src/search/usearch/write.js';
import { parseBenchArgs, runBenchMain } from '../common/args.js';
import { cpuFlags, machineInfo } from '../common/machine.js';
import { median, round } from '../common/timing.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'normsoftmax.mjs');

async function demoShapedIndex(): Promise<string> {
  const idx = join(ROOT, '.cache', 'bench-startup', 'idx');
  if (existsSync(join(idx, 'manifest.json'))) return idx;
  mkdirSync(idx, { recursive: true });
  const n = 35_000;
  const dim = 128;
  let s = 1;
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
  await writeIndex(
    idx,
    { items, dim, vectors: normaliseRows(x, dim) },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: { checkpointSha256: null, checkpointPath: null, arch: null, dim, input: null, resize: 0, crop: 0 },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
  return idx;
}

function wallMs(args: readonly string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-300)}`);
  return ms;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const runs = args.quick ? 3 : 7;
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run npm run build first');
  const machine = machineInfo();
  const idx = await demoShapedIndex();
  const cases: Record<string, string[]> = {
    node: ['-e', '0'],
    version: [CLI, '--version'],
    help: [CLI, '--help'],
    searchById: [CLI, 'search', '--index', idx, '--id', 'fashion-mnist:test/0', '-k', '5'],
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const argv of Object.values(cases)) wallMs(argv); // warm the page cache
  for (let r = 0; r < runs; r++) {
    for (const [name, argv] of Object.entries(cases)) (samples[name] as number[]).push(wallMs(argv));
  }
  const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(median(v), 1)])) as Record<
    string,
    number
  >;
  const node = ms.node as number;
  const out = {
    benchmark: 'startup',
    runs,
    medianWallMs: ms,
    ratioToNode: {
      version: round((ms.version as number) / node, 2),
      help: round((ms.help as number) / node, 2),
      searchById: round((ms.searchById as number) / node, 2),
    },
    targets: {
      versionAndHelpWithin3xNode: (ms.version as number) <= 3 * node && (ms.help as number) <= 3 * node,
      searchByIdWithin1s: (ms.searchById as number) <= 1000,
    },
    machine: { ...machine, cpuFlags: cpuFlags() },
    loadAverage1mAfter: round(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]), 2),
  };
  console.log(JSON.stringify(out, null, 2));
}

await runBenchMain(main);
