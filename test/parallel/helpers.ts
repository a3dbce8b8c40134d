// Starts the ranks of a test job on loopback, each a child process with torchrun's variables.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const RANK_SCRIPT = join(import.meta.dirname, 'fixtures', 'rank.ts');

export interface RankExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the job's start to this rank's exit. */
  ms: number;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function rankEnv(rank: number, worldSize: number, port: number, extra: Record<string, string> = {}) {
  return {
    ...process.env,
    RANK: String(rank),
    WORLD_SIZE: String(worldSize),
    LOCAL_RANK: String(rank),
    LOCAL_WORLD_SIZE: String(worldSize),
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(port),
    NORMSOFTMAX_THREADS: '1',
    ...extra,
  };
}

export function waitExit(child: ChildProcess, started: number): Promise<RankExit> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
}

/** Runs `worldSize` ranks of rank.ts SCENARIO ARGS; resolves when all have exited. */
export async function runRanks(
  worldSize: number,
  args: readonly string[],
  extra: Record<string, string> = {},
): Promise<RankExit[]> {
  const port = await freePort();
  const started = Date.now();
  const children = Array.from({ length: worldSize }, (_, rank) =>
    spawn(process.execPath, ['--import', 'tsx', RANK_SCRIPT, ...args], {
      env: rankEnv(rank, worldSize, port, extra),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  return Promise.all(children.map((c) => waitExit(c, started)));
}

export function parseResult<T>(exit: RankExit): T {
  if (exit.code !== 0) throw new Error(`rank exited with ${exit.code ?? exit.signal}: ${exit.stderr.slice(-2000)}`);
  const last = exit.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}
