// `normsoftmax train --nproc-per-node 2` on the small Fashion-MNIST fixture: the launcher starts two
// ranks, rank 0 alone speaks and writes; Ctrl-C on the launcher stops every rank.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { distributedUnavailableReason } from '../../src/tensor/process-group.js';
import { CLI, describeRun, REPO_ROOT, runCli } from '../helpers/cli.js';
import { freePort } from './helpers.js';

const skip = distributedUnavailableReason() ?? false;
const ROOT = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'fashion-mnist-package');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function trainArgs(out: string, port: number, numSteps: number): string[] {
  return [
    'train',
    ...['--dataset', 'fashion-mnist', '--root', ROOT, '--arch', 'smallcnn', '--dim', '8', '--pretrained', 'none'],
    ...['--batch-size', '4', '--images-per-class', '2', '--warmup-epochs', '0', '--epochs-per-step', '1'],
    ...['--num-steps', String(numSteps), '--k', '1', '--workers', '1', '--out', out],
    ...['--nproc-per-node', '2', '--master-port', String(port), '--dist-timeout', '60'],
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
