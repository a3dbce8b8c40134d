// torchrun's environment contract (the variables every rank of a PyTorch job reads): the same names
// whether torchrun or `normsoftmax train --nproc-per-node` started this process.
import { UsageError } from '../util/errors.js';

export interface DistEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
  /** torchrun's agent hosts the TCPStore (TORCHELASTIC_USE_AGENT_STORE=True): every rank is a client. */
  agentStore: boolean;
  /** TORCHELASTIC_RESTART_COUNT (the agent store's key prefix names the attempt). */
  restartCount: number;
  /** GLOO_SOCKET_IFNAME, or '' to let Gloo pick the address. */
  ifname: string;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new UsageError(
      `distributed: ${name} is not set (torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)`,
    );
  }
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0) throw new UsageError(`distributed: ${name}=${raw} is not a non-negative integer`);
  return v;
}

/** The job this process is a rank of, or null when WORLD_SIZE is unset (a plain single-process run). */
export function readDistEnv(env: NodeJS.ProcessEnv = process.env): DistEnv | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '') return null;
  const worldSize = int(env, 'WORLD_SIZE');
  if (worldSize < 1) throw new UsageError('distributed: WORLD_SIZE must be at least 1');
  const rank = int(env, 'RANK');
  if (rank >= worldSize) throw new UsageError(`distributed: RANK=${rank} is not below WORLD_SIZE=${worldSize}`);
  const masterPort = int(env, 'MASTER_PORT');
  if (masterPort < 1 || masterPort > 65535)
    throw new UsageError(`distributed: MASTER_PORT=${masterPort} is not a port`);
  const masterAddr = env.MASTER_ADDR;
  if (!masterAddr) throw new UsageError('distributed: MASTER_ADDR is not set');
  const localWorldSize = int(env, 'LOCAL_WORLD_SIZE', worldSize);
  return {
    rank,
    worldSize,
    localRank: int(env, 'LOCAL_RANK', rank % localWorldSize),
    localWorldSize,
    masterAddr,
    masterPort,
    agentStore: (env.TORCHELASTIC_USE_AGENT_STORE ?? '').toLowerCase() === 'true',
    restartCount: int(env, 'TORCHELASTIC_RESTART_COUNT', 0),
    ifname: env.GLOO_SOCKET_IFNAME ?? '',
  };
}

/** The variables of rank `rank` of a job (what the launcher gives each process it starts). */
export function distEnvVars(e: Omit<DistEnv, 'agentStore' | 'restartCount' | 'ifname'>): Record<string, string> {
  return {
    RANK: String(e.rank),
    WORLD_SIZE: String(e.worldSize),
    LOCAL_RANK: String(e.localRank),
    LOCAL_WORLD_SIZE: String(e.localWorldSize),
    MASTER_ADDR: e.masterAddr,
    MASTER_PORT: String(e.masterPort),
  };
}
