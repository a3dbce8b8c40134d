// Runs the `normsoftmax` command as a user does (node bin/normsoftmax.mjs ARGS), with pipes for stdout and
// stderr (so neither is a terminal), and returns its exit code and output.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(REPO_ROOT, 'bin', 'normsoftmax.mjs');

export interface CliResult {
  /** The exit code; null when a signal ended the process. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: readonly string[],
  o: { env?: Record<string, string | undefined>; cwd?: string } = {},
): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: o.cwd ?? REPO_ROOT,
    env: { ...process.env, NORMSOFTMAX_THREADS: '1', ...o.env },
    maxBuffer: 1 << 26,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A run's command, exit code and output, for assertion messages. */
export function describeRun(args: readonly string[], r: CliResult): string {
  return `normsoftmax ${args.join(' ')} -> exit ${r.code}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;
}
