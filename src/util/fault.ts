// Fault injection for the crash tests: NORMSOFTMAX_FAULT names points of the code where what reaches them
// dies at once (a crash: nothing after the point runs, no handler, no cleanup), or where a write fails with an
// injected ENOSPC (a full disk). Unset, faultPoint() is a lookup of one environment variable.
//
//   NORMSOFTMAX_FAULT=POINT[@N][=kill|enospc][,POINT...]
//
// @N: the Nth time this process (or worker thread) reaches POINT (default 1); the action defaults to kill.
// A kill SIGKILLs the process; inside a worker thread it ends that thread alone (exit code FAULT_EXIT_CODE),
// as a crash of the thread would, so that a supervised worker's restart can be tested. Points "mid-*" and
// "write-*" sit halfway through a write (half of the bytes are on disk), to leave a torn record or a
// half-written temporary file behind.
import { isMainThread } from 'node:worker_threads';
import { UsageError } from './errors.js';

export const FAULT_POINTS = [
  /** index build: a chunk's .partial records appended up to halfway through its middle record (a torn record). */
  'index-build:mid-append',
  /** index build: a chunk's .partial records appended, before the next chunk is embedded. */
  'index-build:after-append',
  /** index build (usearch): half of a data file written to its temporary name. */
  'index-build:write-data',
  /** index build: every data file renamed into place (usearch) or the Lance table committed; no manifest yet. */
  'index-build:before-manifest',
  /** index build: half of the new manifest written to its temporary name. */
  'index-build:write-manifest',
  /** index build: the manifest renamed into place; older generations and .partial not yet removed. */
  'index-build:after-manifest',
  /** live index: half of a group commit's records written to the write-ahead log (a torn batch). */
  'wal:mid-append',
  /** live index: a group commit's records written, not yet fsynced (nor answered). */
  'wal:before-fsync',
  /** live index: a group commit fsynced, not yet applied nor answered. */
  'wal:after-fsync',
  /** live index compaction (engine worker): half of a data file of the next generation written. */
  'compact:write-data',
  /** live index compaction: the next generation written (or the Lance table committed); no manifest yet. */
  'compact:before-manifest',
  /** live index compaction: the manifest switched; the old generation's files and log segments not yet removed. */
  'compact:after-manifest',
  /** live index compaction: the new generation in place; before each stored image no item names is removed. */
  'compact:remove-files',
  /** train: half of a metrics.jsonl record appended. */
  'train:mid-metrics',
  /** the search worker thread, when a search arrives. */
  'search-worker:search',
  /** the query-embedding worker thread, when a batch of images arrives. */
  'embed-worker:embed',
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];
export type FaultAction = 'kill' | 'enospc';

export const FAULT_ENV = 'NORMSOFTMAX_FAULT';
/** The exit code of a worker thread ended by a fault. */
export const FAULT_EXIT_CODE = 86;

interface FaultSpec {
  point: FaultPoint;
  nth: number;
  action: FaultAction;
}

let parsedFrom: string | undefined;
let specs: FaultSpec[] = [];
const reached = new Map<FaultPoint, number>();

export function parseFault(text: string): FaultSpec {
  const m = /^([a-z-]+:[a-z-]+)(?:@(\d+))?(?:=(kill|enospc))?$/.exec(text.trim());
  const point = m?.[1] as FaultPoint | undefined;
  if (!m || !point || !FAULT_POINTS.includes(point))
    throw new UsageError(
      `NORMSOFTMAX_FAULT: expected POINT[@N][=kill|enospc] with POINT one of ${FAULT_POINTS.join(', ')}; got "${text.slice(0, 80)}"`,
    );
  const nth = m[2] === undefined ? 1 : Number(m[2]);
  if (nth < 1) throw new UsageError(`NORMSOFTMAX_FAULT: @N counts from 1, got @${m[2]}`);
  return { point, nth, action: (m[3] as FaultAction | undefined) ?? 'kill' };
}

/** The error a write gets from a full disk (as Node's fs raises it), for the disk-fault points. */
export function injectedEnospc(point: FaultPoint): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, write (injected at ${point})`), {
    code: 'ENOSPC',
    errno: -28,
    syscall: 'write',
  });
}

/** Marks a point of the code where NORMSOFTMAX_FAULT may crash the process (or thread) or fail a write. */
export function faultPoint(point: FaultPoint): void {
  const text = process.env[FAULT_ENV];
  if (text === undefined || text === '') return;
  if (text !== parsedFrom) {
    specs = text.split(',').map(parseFault);
    parsedFrom = text;
    reached.clear();
  }
  const spec = specs.find((s) => s.point === point);
  if (!spec) return;
  const n = (reached.get(point) ?? 0) + 1;
  reached.set(point, n);
  if (n !== spec.nth) return;
  if (spec.action === 'enospc') throw injectedEnospc(point);
  if (isMainThread) process.kill(process.pid, 'SIGKILL');
  process.exit(FAULT_EXIT_CODE);
}

/** The environment without fault points: for a thread restarted after a fault, so that it runs normally. */
export function withoutFaults(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { [FAULT_ENV]: _, ...rest } = env;
  return rest;
}
