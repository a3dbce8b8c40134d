// Fault injection for the crash tests: NORMSOFTMAX_FAULT names one point of the code, and the process
// SIGKILLs itself (a crash: nothing after the point runs, no handler, no cleanup) or throws an injected
// ENOSPC (a full disk, for disk-fault points) when execution reaches it. Unset, faultPoint() is a lookup
// of one environment variable.
//
//   NORMSOFTMAX_FAULT=POINT[@N][=kill|enospc]
//
// @N: the Nth time this process reaches POINT (default 1); the action defaults to kill. Points "mid-*"
// and "write-*" sit halfway through a write (half of the bytes are on disk), to leave a torn record or a
// half-written temporary file behind.
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
  /** train: half of a metrics.jsonl record appended. */
  'train:mid-metrics',
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];
export type FaultAction = 'kill' | 'enospc';

interface FaultSpec {
  point: FaultPoint;
  nth: number;
  action: FaultAction;
}

let parsedFrom: string | undefined;
let spec: FaultSpec | null = null;
let reached = 0;

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

/** Marks a point of the code where NORMSOFTMAX_FAULT may crash the process or fail a write. */
export function faultPoint(point: FaultPoint): void {
  const text = process.env.NORMSOFTMAX_FAULT;
  if (text === undefined || text === '') return;
  if (text !== parsedFrom) {
    spec = parseFault(text);
    parsedFrom = text;
    reached = 0;
  }
  if (spec === null || spec.point !== point || ++reached !== spec.nth) return;
  if (spec.action === 'enospc') throw injectedEnospc(point);
  process.kill(process.pid, 'SIGKILL');
}
