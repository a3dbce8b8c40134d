// The reference side of a benchmark: a python3 that has torch, driven as a child process.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

const CANDIDATES = ['python3', '/usr/bin/python3'];

/** The first python3 (PATH, then the system one) that can import torch, or null. */
export function findTorchPython(): string | null {
  for (const exe of CANDIDATES) {
    const probe = spawnSync(exe, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (probe.status === 0) return exe;
  }
  return null;
}

/**
 * A Python script that reads one JSON request per line on stdin and answers each with one JSON line
 * on stdout ({"error": "..."} on failure). Keeping one process alive lets a benchmark interleave
 * our timings with the reference's, so that load from other work hits both sides alike.
 */
export class PythonWorker {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #pending: ((line: string | null) => void)[] = [];
  #stderr = '';
  #exited = false;

  constructor(python: string, script: string, env: NodeJS.ProcessEnv = {}) {
    this.#child = spawn(python, ['-u', script], { env: { ...process.env, ...env }, stdio: 'pipe' });
    this.#child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    this.#lines = createInterface({ input: this.#child.stdout });
    this.#lines.on('line', (line) => this.#pending.shift()?.(line));
    const onEnd = (error?: Error) => {
      this.#exited = true;
      if (error) this.#stderr += `\n${error.message}`;
      for (const resolve of this.#pending.splice(0)) resolve(null);
    };
    this.#child.stdin.on('error', () => undefined); // a dead child is reported by the next request
    this.#child.on('exit', () => onEnd());
    this.#child.on('error', (error) => onEnd(error));
  }

  async request<T>(message: object): Promise<T> {
    if (this.#exited) throw new Error(this.#describeExit());
    const line = await new Promise<string | null>((resolve) => {
      this.#pending.push(resolve);
      this.#child.stdin.write(`${JSON.stringify(message)}\n`);
    });
    if (line === null) throw new Error(this.#describeExit());
    const reply = JSON.parse(line) as T & { error?: string };
    if (reply.error !== undefined) throw new Error(`reference: ${reply.error}`);
    return reply;
  }

  close(): void {
    this.#lines.close();
    this.#child.stdin.end();
  }

  #describeExit(): string {
    const lastLine = this.#stderr.trim().split('\n').pop() ?? '';
    return `reference process exited${lastLine ? `: ${lastLine}` : ''}`;
  }
}
