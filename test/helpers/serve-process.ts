// `normsoftmax serve` as a child process for end-to-end tests (Chromium page tests): started on a free
// loopback port, its stderr collected, stopped with SIGTERM; and the small index those tests serve.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI, describeRun, REPO_ROOT, runCli } from './cli.js';
import { writeResnetWeights } from './weights.js';

export class ServeProcess {
  log = '';
  private constructor(readonly child: ChildProcess) {}

  /** Starts `serve --index INDEX --port 0 ...extra` and resolves with its base URL once it listens. */
  static async start(
    index: string,
    extra: readonly string[] = [],
    env: Record<string, string> = {},
  ): Promise<{ serve: ServeProcess; base: string }> {
    const child = spawn(process.execPath, [CLI, 'serve', '--index', index, '--port', '0', ...extra], {
      cwd: REPO_ROOT,
      env: { ...process.env, NORMSOFTMAX_THREADS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const serve = new ServeProcess(child);
    child.stdout?.resume();
    child.stderr?.on('data', (d: Buffer) => {
      serve.log += d.toString();
    });
    for (let i = 0; i < 1200; i++) {
      const m = serve.log.match(/on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) return { serve, base: m[1] as string };
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await serve.stop();
    throw new Error(`serve did not start: ${serve.log}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.on('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** Builds an index of the images in `images` at `idx` with seeded bare resnet18 weights at dim 16; returns the weights file. */
export function buildTinyResnetIndex(dir: string, images: string, idx: string): string {
  const weights = writeResnetWeights(join(dir, 'r18.safetensors'));
  const args = ['index', 'build', '--out', idx, '--checkpoint', weights, '--arch', 'resnet18', '--dim', '16'];
  args.push('--images', images, '--workers', '1');
  const r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
  return weights;
}
