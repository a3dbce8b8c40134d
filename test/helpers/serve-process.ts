// `normsoftmax serve` as a child process for end-to-end tests (Chromium page tests): started on a free
// loopback port, its stderr collected, stopped with SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI, REPO_ROOT } from './cli.js';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const chromiumMissing = !existsSync(CHROMIUM);
/** node:test's skip option for Chromium tests: skips locally without Chromium, never under CI. */
export const chromiumSkip: string | false =
  chromiumMissing && !process.env.CI
    ? `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
    : false;

export class ServeProcess {
  log = '';
  private constructor(readonly child: ChildProcess) {}

  /** Starts `serve --index INDEX --port 0 ...extra` and resolves with its base URL once it listens. */
  static async start(index: string, extra: readonly string[] = []): Promise<{ serve: ServeProcess; base: string }> {
    const child = spawn(process.execPath, [CLI, 'serve', '--index', index, '--port', '0', ...extra], {
      cwd: REPO_ROOT,
      env: { ...process.env, NORMSOFTMAX_THREADS: '1' },
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
