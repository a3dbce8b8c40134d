// `normsoftmax weights list|download` and `train --pretrained NAME` as a user runs them, against a loopback
// server named by NORMSOFTMAX_WEIGHTS_TABLE, with the cache in a temporary NORMSOFTMAX_HOME.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serveFiles, type TestServer } from '../data/download-server.js';
import { CLI, type CliResult, describeRun, REPO_ROOT } from '../helpers/cli.js';
import { writeImageFolder } from '../helpers/images.js';
import { writeResnetWeights } from '../helpers/weights.js';

const CUB = join(import.meta.dirname, '..', 'fixtures', 'datasets', 'cub', 'CUB_200_2011');
const work = mkdtempSync(join(tmpdir(), 'weights-cli-'));
let server: TestServer;
let weights: Buffer;
let env: Record<string, string>;

before(async () => {
  weights = readFileSync(writeResnetWeights(join(work, 'r18.safetensors'), 18, 7));
  const sha = createHash('sha256').update(weights).digest('hex');
  server = await serveFiles({ 'r18-abc.safetensors': weights, 'bad.safetensors': weights }, {});
  const table = join(work, 'table.json');
  const bad = sha.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  writeFileSync(
    table,
    JSON.stringify({
      r18: { url: server.url('r18-abc.safetensors'), sha256: sha, arch: 'resnet18', size: weights.length },
      corrupt: { url: server.url('bad.safetensors'), sha256: bad, arch: 'resnet18' },
    }),
  );
  env = { NORMSOFTMAX_WEIGHTS_TABLE: table, NORMSOFTMAX_HOME: join(work, 'home') };
});
after(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

/** The CLI in a child process (async, so that this process's loopback server keeps answering). */
function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NORMSOFTMAX_THREADS: '2', ...env, ...extraEnv },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const cached = () => join(work, 'home', 'weights', 'r18-abc.safetensors');

test('weights download fetches, verifies and caches; list shows it cached; a second download asks nothing', async () => {
  let r = await cli(['weights', 'list']);
  assert.equal(r.code, 0, describeRun(['weights', 'list'], r));
  const size = `${(weights.length / 1e6).toFixed(1)} MB`;
  assert.match(
    r.stdout,
    new RegExp(`^r18\\s+resnet18\\s+${size}\\s+-\\s+http://127\\.0\\.0\\.1:\\d+/r18-abc\\.safetensors$`, 'm'),
  );
  r = await cli(['weights', 'download', 'r18']);
  assert.equal(r.code, 0, describeRun(['weights', 'download', 'r18'], r));
  assert.equal(r.stdout.trim(), cached());
  assert.deepEqual(readFileSync(cached()), weights);
  const requests = server.ranges.length;
  r = await cli(['weights', 'download', 'r18']);
  assert.equal(r.code, 0);
  assert.equal(server.ranges.length, requests, 'a cached file is not fetched again');
  r = await cli(['weights', 'list']);
  assert.match(r.stdout, /^r18\s+resnet18\s+\S+ MB\s+cached\s/m);
});

test('weights list (the built-in table) says how each ViT file is checked: prefix, whole, or pinned', async () => {
  const r = await cli(['weights', 'list'], { NORMSOFTMAX_WEIGHTS_TABLE: '' });
  assert.equal(r.code, 0, describeRun(['weights', 'list'], r));
  const row = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
  assert.match(
    row('vit_b_16'),
    /^vit_b_16\s+vit_b_16\s+\?\s+-\s+https:\/\/download\.pytorch\.org\/models\/vit_b_16-c867db91\.pth {2}\(sha256 prefix only\)$/,
  );
  assert.match(row('clip_vitb16'), /\/ViT-B-16\.pt$/);
  assert.match(
    row('dinov2_vits14_reg'),
    /dinov2_vits14_reg4_pretrain\.pth {2}\(no published sha256: not verified; the first download is pinned\)$/,
  );
  assert.match(row('resnet50'), /resnet50-19c8e357\.pth$/);
});

test('a corrupted download is refused (exit 1) and deleted; an unknown name is a usage error', async () => {
  const r = await cli(['weights', 'download', 'corrupt']);
  assert.equal(r.code, 1, describeRun(['weights', 'download', 'corrupt'], r));
  assert.match(r.stderr, /corrupt: the download from .* does not match the weights table .* was deleted/);
  assert.ok(!existsSync(join(work, 'home', 'weights', 'bad.safetensors.part')));
  assert.ok(!existsSync(join(work, 'home', 'weights', 'bad.safetensors')));
  const u = await cli(['weights', 'download', 'nope']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /weights download nope: unknown name; known: r18, corrupt/);
});

test('train --pretrained NAME trains from the cached file, as the same file given by path does', async () => {
  const run = (pretrained: string[], out: string) =>
    cli([
      'train',
      ...['--dataset', 'cub', '--root', CUB, '--arch', 'resnet18', '--dim', '16', '--batch-size', '4'],
      ...['--images-per-class', '2', '--resize', '40', '--crop', '32', '--epochs-per-step', '1', '--num-steps', '1'],
      ...['--warmup-epochs', '0', '--max-batches-per-epoch', '1', '--k', '1', '--seed', '3', '--workers', '1'],
      ...pretrained,
      ...['--out', join(work, out)],
    ]);
  const loss = (out: string) =>
    readFileSync(join(work, out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((r) => r.type === 'epoch').loss as number;
  rmSync(join(work, 'home'), { recursive: true, force: true });
  const requests = server.ranges.length;
  const byName = await run(['--pretrained', 'r18'], 'by-name');
  assert.equal(byName.code, 0, describeRun(['train', '--pretrained', 'r18'], byName));
  assert.match(byName.stderr, /--pretrained r18: not in the weights cache yet/);
  assert.equal(server.ranges.length, requests + 1, 'downloaded once');
  assert.deepEqual(readFileSync(cached()), weights);
  const byPath = await run(['--pretrained', join(work, 'r18.safetensors')], 'by-path');
  assert.equal(byPath.code, 0, describeRun(['train'], byPath));
  const scratch = await run([], 'scratch');
  assert.equal(scratch.code, 0, describeRun(['train'], scratch));
  assert.equal(loss('by-name'), loss('by-path'), 'the named weights are the file');
  assert.notEqual(loss('by-name'), loss('scratch'), 'and they were loaded');
  const again = await run(['--pretrained', 'r18'], 'by-name-again');
  assert.equal(again.code, 0);
  assert.equal(server.ranges.length, requests + 1, 'the second run uses the cache');
});

test('embed --checkpoint NAME uses the cached file and the architecture from the table', async () => {
  const images = join(work, 'images');
  await writeImageFolder(images, 2, 2, { size: 32 });
  const byName = await cli(['embed', '--checkpoint', 'r18', '--images', images, '--out', join(work, 'name.npy')]);
  assert.equal(byName.code, 0, describeRun(['embed', '--checkpoint', 'r18'], byName));
  assert.match(byName.stderr, /model: .*r18-abc\.safetensors \(bare resnet18 weights, dim 512\)/);
  const byPath = await cli([
    ...['embed', '--checkpoint', join(work, 'r18.safetensors'), '--arch', 'resnet18'],
    ...['--images', images, '--out', join(work, 'path.npy')],
  ]);
  assert.equal(byPath.code, 0, describeRun(['embed'], byPath));
  assert.deepEqual(readFileSync(join(work, 'name.npy')), readFileSync(join(work, 'path.npy')));
});
