// The LanceDB backend through the CLI: index build --backend lancedb (from vectors), index info, search with
// a filter, a rebuild that changes only what changed, and --backend that contradicts the folder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { saveNpy } from '../../src/io/npy.js';
import { tensor } from '../../src/tensor/index.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { randomUnit } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-lancedb-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], code = 0) {
  const r = runCli(args);
  assert.equal(r.code, code, describeRun(args, r));
  return r;
}

test('index build --backend lancedb, info, search --where, incremental rebuild, backend mismatch', () => {
  const N = 400;
  const D = 16;
  const v = randomUnit(N, D, 11);
  const npy = join(dir, 'x.npy');
  saveNpy(npy, tensor(v, { shape: [N, D] }));
  const paths = Array.from({ length: N }, (_, i) => `c${i % 4}/img${i}.png`);
  const labels = paths.map((_, i) => `c${i % 4}`);
  writeFileSync(join(dir, 'x.json'), JSON.stringify({ paths, labels }));
  const idx = join(dir, 'idx');
  const build = ['index', 'build', '--out', idx, '--embeddings', npy, '--meta', join(dir, 'x.json')];
  run([...build, '--backend', 'lancedb', '--exact-below', '100']);

  const info = JSON.parse(run(['index', 'info', idx, '--json']).stdout) as {
    backend: string;
    items: number;
    lance: { index: { kind: string }; recallAt10: number; selfHits: number; recallQueries: number };
    bytesOnDisk: number;
  };
  assert.equal(info.backend, 'lancedb');
  assert.equal(info.items, N);
  assert.equal(info.lance.index.kind, 'ivf-hnsw-sq');
  assert.equal(info.lance.selfHits, info.lance.recallQueries);
  assert.ok(info.bytesOnDisk > N * D * 4);

  const q = join(dir, 'q.npy');
  saveNpy(q, tensor(v.slice(6 * D, 7 * D), { shape: [1, D] }));
  const plain = JSON.parse(run(['search', '--index', idx, '--vectors', q, '-k', '3', '--json']).stdout) as {
    results: { id: string; label: string }[];
  };
  assert.equal(plain.results[0]?.id, paths[6]);
  const filtered = JSON.parse(
    run([
      'search',
      '--index',
      idx,
      '--backend',
      'lancedb',
      '--vectors',
      q,
      '-k',
      '5',
      '--json',
      '--where',
      "label = 'c1'",
    ]).stdout,
  ) as { results: { id: string; label: string }[] };
  assert.equal(filtered.results.length, 5);
  for (const r of filtered.results) assert.equal(r.label, 'c1');

  // The same build again over the folder: nothing to write.
  const again = run([...build, '--backend', 'lancedb', '--exact-below', '100']);
  assert.match(again.stderr, /lancedb: 0 items added, 0 removed/);

  run(['search', '--index', idx, '--backend', 'usearch', '--vectors', q], 2);
  const wrong = run([...build, '--backend', 'usearch'], 2);
  assert.match(wrong.stderr, /holds a lancedb index/);
  run([...build, '--backend', 'sqlite'], 2);
});
