// Runs a TypeScript script under test/tensor/child in a fresh Node process (with tsx) and parses the
// JSON it prints; fails the test with the child's stderr when it exits non-zero.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export function runChild<T>(script: string, args: string[] = [], nodeFlags: string[] = []): T {
  const path = join(import.meta.dirname, 'child', script);
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', path, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    // Small ops: one thread keeps the run steady on a loaded machine (idle OpenMP workers spin).
    env: { ...process.env, NORMSOFTMAX_THREADS: '1' },
  });
  assert.equal(r.status, 0, `${script} exited with ${r.status} (signal ${r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
