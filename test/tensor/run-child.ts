// Runs a TypeScript script under test/tensor/child in a fresh Node process (with tsx) and parses the
// JSON it prints; fails the test with the child's stderr when it exits non-zero.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** `env` is added to the child's environment; a variable given as undefined is removed from it. */
export function runChild<T>(
  script: string,
  args: string[] = [],
  nodeFlags: string[] = [],
  env: Record<string, string | undefined> = {},
): T {
  const path = join(import.meta.dirname, 'child', script);
  // Small ops: one thread keeps the run steady on a loaded machine (idle OpenMP workers spin).
  const childEnv: Record<string, string | undefined> = { ...process.env, NORMSOFTMAX_THREADS: '1', ...env };
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', path, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    env: childEnv,
  });
  assert.equal(r.status, 0, `${script} exited with ${r.status} (signal ${r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
