// Page faults per step of the conv/batch_norm/relu block (bench/engine/block.ts), counted with
// getrusage (process.resourceUsage) around `iterations` steps after WARM_UP steps (under our policy the
// heap takes a few steps to reach its working size). run.ts calls
// blockFaults() in its own process and runs this file as a child with NORMSOFTMAX_SYSTEM_MALLOC=1, so
// that both malloc policies are measured (the policy is applied when the addon loads).
// Usage: node --import tsx bench/engine/faults.ts ITERATIONS THREADS   (prints {"minor": .., "major": ..})
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setNumThreads } from '../../src/tensor/index.js';
import { prepareBlock } from './block.js';

export interface Faults {
  /** Minor faults per step: a page mapped again (what the malloc policy is about). */
  minor: number;
  /** Major faults per step: a page read from disk. */
  major: number;
}

export const WARM_UP = 3;

export function blockFaults(iterations: number, step: () => void = prepareBlock()): Faults {
  for (let i = 0; i < WARM_UP; i++) step();
  const before = process.resourceUsage();
  for (let i = 0; i < iterations; i++) step();
  const after = process.resourceUsage();
  return {
    minor: (after.minorPageFault - before.minorPageFault) / iterations,
    major: (after.majorPageFault - before.majorPageFault) / iterations,
  };
}

/** blockFaults() in a fresh process with `env` added (a variable given as undefined is removed). */
export function blockFaultsInChild(
  iterations: number,
  threads: number,
  env: Record<string, string | undefined>,
): Faults {
  const self = fileURLToPath(import.meta.url);
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, String(iterations), String(threads)], {
    encoding: 'utf8',
    env: childEnv,
  });
  if (r.status !== 0) throw new Error(`page-fault child failed: ${r.stderr.trim().split('\n').pop() ?? r.status}`);
  return JSON.parse(r.stdout) as Faults;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [iterations, threads] = process.argv.slice(2).map(Number);
  setNumThreads(threads as number);
  process.stdout.write(JSON.stringify(blockFaults(iterations as number)));
}
