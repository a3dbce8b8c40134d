// Joins the job's c10d process group (TCPStore + Gloo), turning c10d's failures at start into
// one-line errors that say what to check: a port in use, a master nobody answers on, a timeout.
import { libtorchVersion } from '../tensor/index.js';
import { ProcessGroup } from '../tensor/process-group.js';
import { FailureError, UsageError } from '../util/errors.js';
import { describeJobMismatch, jobView } from './agreement.js';
import type { DistEnv } from './env.js';
import { checkTorchrunRelease, torchrunTorchVersion } from './torch-release.js';

const LOOPBACK = /^(127\.|localhost$|::1$)/;

export interface OpenOptions {
  /** Gloo's worker threads (default 2). */
  threads?: number;
  /** Settings every rank must agree on (compared at start with the world size; see agreement.ts). */
  settings?: Record<string, string | number | boolean | undefined>;
  /** false: no agreement check (a group shared with PyTorch ranks, which publish no view). */
  agree?: boolean;
  log?: (line: string) => void;
}

export async function openProcessGroup(
  env: DistEnv,
  timeoutSeconds: number,
  o: OpenOptions = {},
): Promise<ProcessGroup> {
  if (!(timeoutSeconds > 0)) throw new UsageError(`--dist-timeout must be > 0 seconds, got ${timeoutSeconds}`);
  const where = `${env.masterAddr}:${env.masterPort}`;
  if (env.agentStore) {
    // A torchrun of another release would leave this rank waiting on a store it cannot talk to.
    const { error, warning } = checkTorchrunRelease(torchrunTorchVersion(), libtorchVersion().torch);
    if (error) throw new FailureError(`rank ${env.rank}: ${error}`);
    if (warning && env.rank === 0) (o.log ?? ((line: string) => console.error(line)))(warning);
  }
  try {
    return await ProcessGroup.init({
      masterAddr: env.masterAddr,
      port: env.masterPort,
      rank: env.rank,
      worldSize: env.worldSize,
      hostStore: !env.agentStore,
      storePrefix: env.agentStore ? `/worker/attempt_${env.restartCount}` : '',
      ifname: env.ifname,
      // On one machine Gloo talks over loopback; across machines it binds the host's own address.
      hostname: LOOPBACK.test(env.masterAddr) ? '127.0.0.1' : '',
      timeoutMs: timeoutSeconds * 1000,
      threads: o.threads ?? 2,
      announce: o.agree === false ? '' : jobView(env.worldSize, o.settings),
    });
  } catch (e) {
    throw new FailureError(
      `rank ${env.rank}: ${describeStartFailure((e as Error).message, where, env, timeoutSeconds)}`,
    );
  }
}

function describeStartFailure(message: string, where: string, env: DistEnv, timeoutSeconds: number): string {
  const m = message.split('\n')[0] ?? message;
  const mismatch = describeJobMismatch(m);
  if (mismatch) return mismatch;
  if (/address already in use/i.test(m)) {
    return `the master port ${where} is in use (another job or a stale rank holds it): pick another --master-port`;
  }
  if (/connection refused|no route|unreachable|name or service not known|getaddrinfo|could not resolve/i.test(m)) {
    return `cannot reach the master at ${where} (${m.trim()}): check --master-addr/--master-port and that rank 0 is up`;
  }
  if (/timed? ?out|timeout/i.test(m)) {
    return `not every rank joined within --dist-timeout ${timeoutSeconds} s at ${where} (world size ${env.worldSize}; ${m.trim()}); also check that torchrun comes from the same PyTorch release as this libtorch`;
  }
  return `joining the process group at ${where} failed: ${m.trim()}`;
}

/**
 * A collective that failed mid-run, as one line naming the rank that went away where it can be told
 * (in a two-rank job, the other rank).
 */
export function describeCollectiveFailure(
  rank: number,
  worldSize: number,
  what: string,
  message: string,
  /** The ranks the heartbeats blame (src/parallel/liveness.ts), in a job of more than two ranks. */
  named: readonly number[] = [],
): string {
  const m = (message.split('\n')[0] ?? message).replace(/^\[[^\]]*\]\s*/, '').trim();
  const peer =
    worldSize === 2
      ? `rank ${1 - rank}`
      : named.length === 1
        ? `rank ${named[0]}`
        : named.length > 1
          ? `ranks ${named.join(', ')}`
          : 'a peer rank';
  if (/closed by peer|connection reset|broken pipe|eof/i.test(m)) {
    return `rank ${rank}: ${peer} went away during ${what} (${m}); stopping`;
  }
  if (/timed? ?out|timeout/i.test(m)) {
    return `rank ${rank}: ${peer} did not answer within --dist-timeout during ${what} (${m}); stopping`;
  }
  return `rank ${rank}: ${what} failed (${m})`;
}
