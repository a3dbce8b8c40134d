// `normsoftmax train --nproc-per-node 2` on the small Fashion-MNIST fixture: the launcher starts two
// ranks, rank 0 alone speaks and writes; Ctrl-C on the launcher stops every rank.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { distributedUnavailableReason } from '../../src/tensor/process-group.js';
import { CLI, describeRun, REPO_ROOT, runCli } from '../helpers/cli.js';
import { REFERENCE_PYTHON, referenceSkip } from '../helpers/reference-python.js';
import { needsInstalled } from '../helpers/skip.js';
import { freePort } from './helpers.js';

const skip = needsInstalled(distributedUnavailableReason());
const ROOT = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'fashion-mnist-package');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The training command; with a port, launched by our launcher on it. */
function trainArgs(out: string, port: number | null, numSteps: number): string[] {
  return [
    'train',
    ...['--dataset', 'fashion-mnist', '--root', ROOT, '--arch', 'smallcnn', '--dim', '8', '--pretrained', 'none'],
    ...['--batch-size', '4', '--images-per-class', '2', '--warmup-epochs', '0', '--epochs-per-step', '1'],
    ...['--num-steps', String(numSteps), '--k', '1', '--workers', '1', '--out', out],
    '--dist-timeout',
    '60',
    ...(port === null ? [] : ['--nproc-per-node', '2', '--master-port', String(port)]),
  ];
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

test('train --nproc-per-node 2 trains and evaluates; only rank 0 prints and writes', { skip }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'normsoftmax-dist-cli-'));
  dirs.push(out);
  const args = trainArgs(out, await freePort(), 1);
  const r = runCli(args, { env: { NORMSOFTMAX_THREADS: undefined } });
  assert.equal(r.code, 0, describeRun(args, r));
  assert.equal(r.stderr.match(/distributed: world size 2 \(2 per node\), backend gloo/g)?.length, 1, r.stderr);
  assert.equal(r.stdout.match(/^R@1 \(%\)/gm)?.length, 1, 'one metrics table (rank 0)');
  assert.equal(r.stdout.match(/^checkpoint: /gm)?.length, 1);
  for (const f of ['last.safetensors', 'metrics.jsonl', 'config.json', 'report.html']) {
    assert.ok(existsSync(join(out, f)), f);
  }
});

test('a rank that fails makes the launcher name it, stop the others and exit with its code', { skip }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'normsoftmax-dist-fail-'));
  dirs.push(out);
  const args = trainArgs(out, await freePort(), 1).map((a) => (a === ROOT ? join(out, 'missing') : a));
  const r = runCli(args);
  assert.equal(r.code, 3, describeRun(args, r));
  assert.match(r.stderr, /^normsoftmax: rank [01] exited with code 3; stopping the other ranks$/m);
  // the ranks' own lines: rank 0's as usual, any other prefixed with its rank
  for (const line of r.stderr
    .trim()
    .split('\n')
    .filter((l) => !/exited with code|^distributed: /.test(l))) {
    assert.match(line, /^normsoftmax: (rank 1: )?.*missing/, line);
  }
});

test('Ctrl-C on the launcher stops every rank', { skip }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'normsoftmax-dist-int-'));
  dirs.push(out);
  const port = await freePort();
  const launcher = spawn(process.execPath, [CLI, ...trainArgs(out, port, 10_000)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const started = new Promise<void>((resolve) => {
    launcher.stderr.on('data', (d) => {
      stderr += d;
      if (/epoch 1\//.test(stderr) || /distributed: world size/.test(stderr)) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => launcher.on('close', (code) => resolve(code)));
  await started;
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = Date.now();
  launcher.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.ok(Date.now() - t0 < 12_000, `stopping took ${Date.now() - t0} ms`);
  // rank 0 hosted the store on the master port: it is gone
  assert.ok(await portIsFree(port), 'the master port is free again');
});

test("torchrun --no_python normsoftmax train: the ranks join torchrun's agent store", {
  skip: skip || referenceSkip(['torch.distributed.run'], 'the torchrun launch test'),
}, () => {
  const out = mkdtempSync(join(tmpdir(), 'normsoftmax-dist-torchrun-'));
  dirs.push(out);
  const bin = join(out, 'normsoftmax');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(bin, 0o755);
  const args = trainArgs(join(out, 'run'), null, 1);
  // Debian's torchrun 1.13 on Python 3.11 cannot parse its default --redirects 0 (an IntFlag change):
  // redirect and tee stderr instead.
  const r = spawnSync(
    REFERENCE_PYTHON,
    [
      '-m',
      'torch.distributed.run',
      '--nproc_per_node',
      '2',
      '--rdzv_endpoint',
      'localhost:0',
      '--rdzv_backend',
      'c10d',
      '--redirects',
      '2',
      '--tee',
      '2',
      '--log_dir',
      join(out, 'logs'),
      '--no_python',
      bin,
      ...args,
    ],
    { encoding: 'utf8', env: { ...process.env, NORMSOFTMAX_THREADS: '1' }, timeout: 180_000 },
  );
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`.slice(-3000));
  assert.match(r.stderr, /distributed: world size 2 \(2 per node\), backend gloo/);
  assert.ok(existsSync(join(out, 'run', 'last.safetensors')));
});
