// A search by id loads no libtorch (~0.7 s of its start-up): the usearch engine's worker runs the scan
// kernels from the search addon (native/build/normsoftmax_search.node, built without libtorch), and the
// command loads the libtorch addon only for image and vector queries. Each run's process reports, as it
// exits, which of the two addons its memory maps hold (the engine worker is a thread of that process).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { saveNpy } from '../../src/io/npy.js';
import { tensor } from '../../src/tensor/index.js';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { cannotApplyHere } from '../helpers/skip.js';
import { randomUnit, write } from '../search/helpers.js';

const skip = cannotApplyHere(process.platform !== 'linux' && `no /proc/self/maps on ${process.platform}`);

// Preloaded into the command and its worker threads: every native addon a thread loads is reported with
// whether libtorch is mapped right after it loaded (a worker's addons are unloaded when it ends, before
// the process exits), and the main thread reports the maps once more at exit.
const REPORT_MAPS = `data:text/javascript,${encodeURIComponent(`
import { readFileSync, writeSync } from 'node:fs';
const libtorch = () => /libtorch_cpu[^/\\n]*\\.so/.test(readFileSync('/proc/self/maps', 'utf8'));
const dlopen = process.dlopen;
process.dlopen = function (module, file, ...rest) {
  const result = dlopen.call(this, module, file, ...rest);
  writeSync(2, 'LOADED ' + JSON.stringify({ file, libtorch: libtorch() }) + '\\n');
  return result;
};
process.on('exit', () => writeSync(2, 'EXIT ' + JSON.stringify({ libtorch: libtorch() }) + '\\n'));`)}`;

interface Mapping {
  stdout: string;
  loaded: { file: string; libtorch: boolean }[];
  libtorchAtExit: boolean;
}

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-no-libtorch-'));
const dim = 16;
const n = 3000;
const vectors = randomUnit(n, dim, 5);
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await write(join(dir, 'exact'), vectors, dim);
  await write(join(dir, 'hnsw'), vectors, dim, { exactBelow: 100 });
  saveNpy(join(dir, 'q.npy'), tensor(vectors.slice(0, dim), { shape: [1, dim] }));
});

function searchMapping(args: string[]): Mapping {
  const r = spawnSync(process.execPath, ['--import', REPORT_MAPS, CLI, 'search', ...args], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    env: { ...process.env, NORMSOFTMAX_THREADS: '2' },
  });
  assert.equal(r.status, 0, `search ${args.join(' ')} -> ${r.status}\n${r.stderr.slice(-2000)}`);
  const exit = r.stderr.match(/^EXIT (.*)$/m)?.[1];
  assert.ok(exit, `no report at exit:\n${r.stderr.slice(-2000)}`);
  const loaded = [...r.stderr.matchAll(/^LOADED (.*)$/gm)].map((m) => JSON.parse(m[1] as string));
  return { stdout: r.stdout, loaded, libtorchAtExit: JSON.parse(exit).libtorch };
}

const base = (file: string) => file.split('/').at(-1);

test('search --id (exact, binary, HNSW) maps the search addon and never libtorch', { skip }, () => {
  for (const [index, extra] of [
    ['exact', []],
    ['exact', ['--mode', 'binary']],
    ['hnsw', []],
  ] as const) {
    const m = searchMapping(['--index', join(dir, index), '--id', 'item7', '-k', '3', '--json', ...extra]);
    const hits = JSON.parse(m.stdout.trim()).results.map((h: { id: string }) => h.id);
    assert.equal(hits[0], 'item7', `${index} ${extra.join(' ')}: the query finds itself first`);
    assert.equal(hits.length, 3);
    const what = `${index} ${extra.join(' ')}`;
    const addons = m.loaded.map((l) => base(l.file));
    assert.ok(addons.includes('normsoftmax_search.node'), `${what}: the search addon is loaded (${addons})`);
    assert.ok(!addons.includes('normsoftmax.node'), `${what}: the libtorch addon is not loaded (${addons})`);
    for (const l of m.loaded) assert.equal(l.libtorch, false, `${what}: libtorch mapped after ${l.file}`);
    assert.equal(m.libtorchAtExit, false, `${what}: libtorch mapped at exit`);
  }
});

test('search --vectors still loads libtorch (the .npy reader): the report sees it', { skip }, () => {
  const m = searchMapping(['--index', join(dir, 'exact'), '--vectors', join(dir, 'q.npy'), '-k', '1', '--json']);
  assert.equal(JSON.parse(m.stdout.trim()).results[0].id, 'item0');
  const addon = m.loaded.find((l) => base(l.file) === 'normsoftmax.node');
  assert.ok(addon, `the libtorch addon is loaded (${m.loaded.map((l) => l.file)})`);
  assert.equal(addon.libtorch, true);
  assert.equal(m.libtorchAtExit, true);
});
