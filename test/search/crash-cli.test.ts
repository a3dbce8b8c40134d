// `normsoftmax index build` SIGKILLed (NORMSOFTMAX_FAULT, src/util/fault.ts) at each crash point, or failed
// by a full disk (injected ENOSPC), then built again, through the real command (a tiny smallcnn on 24
// generated 28x28 images): after every step the folder holds a complete index or none, that index verifies
// and every item finds itself first, a full disk is one line with exit code 1 and no temp file, the next
// build resumes what was embedded, and a second writer is refused naming the holder's pid. Both backends.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { acquireWriterLock, LOCK_NAME, readWriterLock } from '../../src/io/writer-lock.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { PARTIAL_DIR } from '../../src/search/build/partial.js';
import { readLanceManifest } from '../../src/search/lancedb/layout.js';
import { verifyLanceIndex } from '../../src/search/lancedb/verify.js';
import { MANIFEST_NAME, readManifest } from '../../src/search/manifest.js';
import { openIndex } from '../../src/search/open-index.js';
import { verifyFiles } from '../../src/search/verify.js';
import { manualSeed } from '../../src/tensor/index.js';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { type ImageFolder, writeImageFolder } from '../helpers/images.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-crash-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let folder: ImageFolder;
let extra: string;
const weights = { a: join(dir, 'a.safetensors'), b: join(dir, 'b.safetensors') };

before(async () => {
  folder = await writeImageFolder(join(dir, 'images'), 3, 8, { size: 28, noise: 96 });
  extra = (await writeImageFolder(join(dir, 'more'), 4, 1, { size: 28, noise: 200 })).paths[3] as string;
  for (const [seed, path] of [
    [5, weights.a],
    [6, weights.b],
  ] as const) {
    manualSeed(seed);
    const model = createEmbedder({ arch: 'smallcnn', dim: 16 });
    saveSafetensors(path, model.stateDict());
    model.dispose();
  }
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  pid: number;
  stdout: string;
  stderr: string;
}

function build(out: string, o: { model?: 'a' | 'b'; backend?: string; fault?: string } = {}): Run {
  const args = [
    ...['index', 'build', '--out', out, '--images', folder.root, '--checkpoint', weights[o.model ?? 'a']],
    ...['--arch', 'smallcnn', '--dim', '16', '--workers', '1', '--backend', o.backend ?? 'usearch'],
  ];
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NORMSOFTMAX_THREADS: '1', NORMSOFTMAX_FAULT: o.fault ?? '' },
  });
  return { code: r.status, signal: r.signal, pid: r.pid as number, stdout: r.stdout, stderr: r.stderr };
}

const show = (r: Run) => `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const killed = (r: Run) => assert.equal(r.signal, 'SIGKILL', `expected a SIGKILL at the fault point\n${show(r)}`);
const temps = (out: string) => readdirSync(out).filter((f) => f.includes('.tmp'));

/** One line "normsoftmax: <path>: no space left on device; ...", exit 1, no stack, no temp file, no lock. */
function fullDisk(r: Run, out: string, file: string): void {
  assert.equal(r.code, 1, show(r));
  const reports = r.stderr.split('\n').filter((l) => l.startsWith('normsoftmax:'));
  assert.deepEqual(reports, [
    `normsoftmax: ${join(out, file)}: no space left on device; free some space and run the command again`,
  ]);
  assert.ok(!/^\s+at /m.test(r.stderr), `no stack trace\n${r.stderr}`);
  assert.deepEqual(temps(out), []);
  assert.equal(existsSync(join(out, LOCK_NAME)), false, 'the lock is released');
}

/** The folder's index verifies and every image finds itself first; returns each id's vector. */
async function assertWhole(out: string, images: readonly string[]): Promise<Map<string, Float32Array>> {
  const m = readManifest(out);
  if (m.backend === 'lancedb') await verifyLanceIndex(out, readLanceManifest(out));
  else verifyFiles(out, m);
  const index = await openIndex(out);
  const vectors = new Map<string, Float32Array>();
  try {
    assert.equal(index.stats().items, images.length);
    for (const path of images) {
      const id = path.slice(folder.root.length + 1);
      const v = index.vectorOf(id) as Float32Array;
      const [hits] = await index.search([v], { k: 1, mode: 'float' });
      assert.equal(hits?.[0]?.id, id, `${out}: ${id} finds itself`);
      vectors.set(id, v);
    }
  } finally {
    await index.close();
  }
  return vectors;
}

test('usearch: killed mid-append, before the manifest, after it; a full disk; a second writer', async () => {
  const out = join(dir, 'usearch');
  const first = build(out, { fault: 'index-build:mid-append' });
  killed(first);
  assert.equal(existsSync(join(out, MANIFEST_NAME)), false);
  assert.equal(readWriterLock(out)?.pid, first.pid, 'a killed build leaves its lock');

  // Its lock is stale: taken over. While someone holds the folder, a build is refused naming the holder.
  const held = acquireWriterLock(out, 'test');
  const refused = build(out);
  held.release();
  assert.equal(refused.code, 1, show(refused));
  assert.match(
    refused.stderr,
    new RegExp(`^normsoftmax: ${out} is being written by another process: pid ${process.pid} \\(test, since `, 'm'),
  );
  assert.equal(refused.stderr.trim().split('\n').length, 1, 'one line, before loading anything');

  const second = build(out, { fault: 'index-build:before-manifest' });
  killed(second);
  const recovered =
    /interrupted build: (\d+) embedded items recovered from .*; (\d+) bytes after them \(a torn or damaged record\) dropped/.exec(
      second.stderr,
    );
  assert.ok(recovered, second.stderr);
  const n = Number(recovered[1]);
  assert.ok(n > 0 && n < 24, `${n} of 24 records before the torn one`);
  assert.equal(existsSync(join(out, MANIFEST_NAME)), false, 'data files written, no manifest: no index yet');

  fullDisk(build(out, { fault: 'index-build:write-data=enospc' }), out, 'g1-vectors.f32');
  assert.equal(existsSync(join(out, MANIFEST_NAME)), false);

  killed(build(out, { fault: 'index-build:after-manifest' }));
  await assertWhole(out, folder.paths);
  assert.ok(existsSync(join(out, PARTIAL_DIR)));

  copyFileSync(extra, join(folder.root, 'class0', 'extra.png'));
  try {
    const last = build(out);
    assert.equal(last.code, 0, show(last));
    assert.match(last.stdout, /: 25 items, 1 embedded, 24 unchanged;/);
    await assertWhole(out, [...folder.paths, join(folder.root, 'class0', 'extra.png')]);
    const m = readManifest(out);
    assert.equal(m.generation, 2);
    assert.deepEqual(
      readdirSync(out).sort(),
      [...m.files.map((f) => f.name), MANIFEST_NAME].sort(),
      'nothing else left',
    );
  } finally {
    rmSync(join(folder.root, 'class0', 'extra.png'));
  }
});

test("lancedb: another model's build killed after its table commit is not seen, nor reused; a full disk; killed after the manifest", async () => {
  const out = join(dir, 'lancedb');
  const first = build(out, { backend: 'lancedb' });
  assert.equal(first.code, 0, show(first));
  const modelA = await assertWhole(out, folder.paths);

  killed(build(out, { backend: 'lancedb', model: 'b', fault: 'index-build:before-manifest' }));
  assert.deepEqual(await assertWhole(out, folder.paths), modelA, "model A's vectors, not model B's");

  copyFileSync(extra, join(folder.root, 'class0', 'extra.png'));
  try {
    fullDisk(build(out, { backend: 'lancedb', fault: 'index-build:write-manifest=enospc' }), out, MANIFEST_NAME);
    assert.deepEqual(await assertWhole(out, folder.paths), modelA);

    const last = build(out, { backend: 'lancedb', fault: 'index-build:after-manifest' });
    killed(last);
    assert.match(last.stderr, /rolled back to \d+/);
    const now = await assertWhole(out, [...folder.paths, join(folder.root, 'class0', 'extra.png')]);
    for (const [id, v] of modelA) assert.deepEqual(now.get(id), v, `${id}: model A's vector reused`);
  } finally {
    rmSync(join(folder.root, 'class0', 'extra.png'));
  }
});
