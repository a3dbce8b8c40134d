// `normsoftmax train --nproc-per-node N`: starts this node's N ranks as child processes of the same
// command, with torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), and supervises them like torchrun: when one rank fails the others are stopped and the
// launcher exits with that rank's code; Ctrl-C (SIGINT/SIGTERM) stops every rank.
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { FailureError, UsageError } from '../util/errors.js';
import { distEnvVars } from './env.js';

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
  /** --threads as given (0: cores / nproc-per-node for each rank). */
  threads: number;
  /** The command to run for each rank: argv without the launcher's flags. */
  argv: readonly string[];
  log?: (line: string) => void;
}

/** The launcher's own flags (with a value each): removed from the command the ranks run. */
export const LAUNCHER_FLAGS = ['--nproc-per-node', '--nnodes', '--node-rank', '--master-addr', '--master-port'];

/** argv without the launcher's flags and their values (both `--flag v` and `--flag=v`). */
export function stripLauncherFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const name = a.split('=')[0] as string;
    if (LAUNCHER_FLAGS.includes(name)) {
      if (!a.includes('=')) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

export function checkLaunchOptions(o: LaunchOptions): void {
  const positive = (flag: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`${flag} must be a positive integer, got ${v}`);
  };
  positive('--nproc-per-node', o.nprocPerNode);
  positive('--nnodes', o.nnodes);
  if (!Number.isInteger(o.nodeRank) || o.nodeRank < 0 || o.nodeRank >= o.nnodes) {
    throw new UsageError(`--node-rank must be in [0, ${o.nnodes}) for --nnodes ${o.nnodes}, got ${o.nodeRank}`);
  }
  if (!Number.isInteger(o.masterPort) || o.masterPort < 1 || o.masterPort > 65535) {
    throw new UsageError(`--master-port must be a port (1-65535), got ${o.masterPort}`);
  }
  if (o.masterAddr === '') throw new UsageError('--master-addr must name a host');
}

/** Runs the ranks to completion; resolves with the exit code the launcher should exit with. */
export async function launch(o: LaunchOptions): Promise<number> {
  checkLaunchOptions(o);
  const log = o.log ?? ((line: string) => console.error(line));
  const cores = availableParallelism();
  const threads = o.threads > 0 ? o.threads : Math.max(1, Math.floor(cores / o.nprocPerNode));
  if (threads * o.nprocPerNode > cores) {
    log(
      `warning: ${o.nprocPerNode} processes x ${threads} threads exceed the ${cores} cores: the ranks will slow each other down`,
    );
  }
  const worldSize = o.nnodes * o.nprocPerNode;
  const [command, ...args] = o.argv;
  if (command === undefined) throw new UsageError('launcher: no command to run');
  const children: ChildProcess[] = [];
  const exits: Promise<{ rank: number; code: number | null; signal: NodeJS.Signals | null }>[] = [];
  for (let local = 0; local < o.nprocPerNode; local++) {
    const rank = o.nodeRank * o.nprocPerNode + local;
    const env = {
      ...process.env,
      ...distEnvVars({
        rank,
        worldSize,
        localRank: local,
        localWorldSize: o.nprocPerNode,
        masterAddr: o.masterAddr,
        masterPort: o.masterPort,
      }),
      NORMSOFTMAX_THREADS: String(threads),
      OMP_NUM_THREADS: String(threads),
    };
    const child = spawn(command, args, { env, stdio: 'inherit' });
    children.push(child);
    exits.push(
      new Promise((resolve) => {
        child.on('error', (e) => {
          log(`rank ${rank}: could not start (${e.message})`);
          resolve({ rank, code: 1, signal: null });
        });
        child.on('exit', (code, signal) => resolve({ rank, code, signal }));
      }),
    );
  }
  let stopping: string | null = null;
  const stopAll = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  let killTimer: NodeJS.Timeout | null = null;
  // A rank stuck in native code gets a few seconds after SIGTERM, then SIGKILL.
  const stopAllSoon = () => {
    stopAll('SIGTERM');
    killTimer ??= setTimeout(() => stopAll('SIGKILL'), 10_000);
  };
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    stopping = signal;
    stopAllSoon();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let firstFailure: { rank: number; code: number } | null = null;
  try {
    const pending = new Map(exits.map((p, i) => [i, p]));
    while (pending.size > 0) {
      const done = await Promise.race([...pending.entries()].map(([i, p]) => p.then((r) => ({ i, r }))));
      pending.delete(done.i);
      const { rank, code, signal } = done.r;
      const failed = code !== 0;
      if (failed && stopping === null) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        log(`normsoftmax: rank ${rank} ${how}; stopping the other ranks`);
        firstFailure = { rank, code: code ?? 1 };
        stopping = 'failure';
        stopAllSoon();
      }
    }
  } finally {
    if (killTimer) clearTimeout(killTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted) return interrupted === 'SIGINT' ? 130 : 143;
  if (firstFailure) return firstFailure.code || 1;
  return 0;
}

/** The command line that runs this same CLI again (node, its flags, the entry script). */
export function selfCommand(argv: readonly string[] = process.argv): string[] {
  const [node, script, ...rest] = argv;
  if (node === undefined || script === undefined)
    throw new FailureError('launcher: cannot tell how this CLI was started');
  return [node, ...process.execArgv, script, ...stripLauncherFlags(rest)];
}
