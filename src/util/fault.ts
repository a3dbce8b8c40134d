// Fault injection for crash tests: NORMSOFTMAX_FAULT names points (comma-separated) where the code that
// reaches them dies at once, as a crash or a kill would: the process by SIGKILL, or, inside a worker thread,
// that thread alone (it exits with FAULT_EXIT_CODE). `point@N` dies the N-th time the point is reached in
// this process or thread (default the first). Unset, a point costs one lookup.
import { isMainThread } from 'node:worker_threads';

export const FAULT_ENV = 'NORMSOFTMAX_FAULT';
export const FAULT_EXIT_CODE = 86;

const reached = new Map<string, number>();

/** The arrival at which `point` dies (1 = the first), or null when the environment does not name it. */
export function faultArrival(point: string, env: NodeJS.ProcessEnv = process.env): number | null {
  const v = env[FAULT_ENV];
  if (v === undefined || v === '') return null;
  for (const entry of v.split(',')) {
    const [name, at] = entry.trim().split('@');
    if (name === point) return at === undefined ? 1 : Number(at);
  }
  return null;
}

/** Dies here when NORMSOFTMAX_FAULT names `point` (at this arrival). */
export function faultPoint(point: string): void {
  const at = faultArrival(point);
  if (at === null) return;
  const n = (reached.get(point) ?? 0) + 1;
  reached.set(point, n);
  if (n !== at) return;
  if (isMainThread) process.kill(process.pid, 'SIGKILL');
  process.exit(FAULT_EXIT_CODE);
}

/** The environment without fault points: for a thread restarted after a fault, so that it runs normally. */
export function withoutFaults(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { [FAULT_ENV]: _, ...rest } = env;
  return rest;
}
