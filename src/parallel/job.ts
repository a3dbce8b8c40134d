// This process as one rank of a data-parallel job: torchrun's variables say which, the process group
// is opened from them, and rank 0 says what it joined.
import { libtorchVersion } from '../tensor/index.js';
import type { ProcessGroup } from '../tensor/process-group.js';
import type { DataParallel } from '../train/parallel.js';
import { commandSettings } from './agreement.js';
import { createDataParallel } from './data-parallel.js';
import { type DistEnv, readDistEnv } from './env.js';
import { openProcessGroup } from './open-group.js';

export const DEFAULT_DIST_TIMEOUT_SECONDS = 300;

export interface Job {
  env: DistEnv;
  pg: ProcessGroup;
  parallel: DataParallel;
}

/** Joins the job named by the environment; null when this is a single process (no WORLD_SIZE, or 1). */
export async function joinJobFromEnv(
  timeoutSeconds = DEFAULT_DIST_TIMEOUT_SECONDS,
  log: (line: string) => void = (line) => console.error(line),
): Promise<Job | null> {
  const env = readDistEnv();
  if (env === null || env.worldSize === 1) return null;
  // Every rank must run the same command with the same world size: compared in the store at start.
  const pg = await openProcessGroup(env, timeoutSeconds, { settings: commandSettings(process.argv.slice(2)), log });
  if (env.rank === 0) {
    log(
      `distributed: world size ${env.worldSize} (${env.localWorldSize} per node), backend gloo (c10d, libtorch ${libtorchVersion().torch}), store ${env.masterAddr}:${env.masterPort}`,
    );
  }
  return { env, pg, parallel: createDataParallel(pg) };
}

/** Prefixes an error of a rank other than 0 with its rank (one line each, so a reader knows whose). */
export function tagWithRank(e: unknown, rank: number): unknown {
  if (e instanceof Error && !e.message.startsWith(`rank ${rank}:`)) e.message = `rank ${rank}: ${e.message}`;
  return e;
}
