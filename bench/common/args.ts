// The flags every benchmark accepts: --threads N and --quick. Bad flags end the run with one line.
import { availableParallelism } from 'node:os';

export interface BenchArgs {
  /** Intra-op threads for both sides. */
  threads: number;
  /** Fewer repetitions: a smoke run, not figures to publish. */
  quick: boolean;
}

export class BenchArgsError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { threads: availableParallelism(), quick: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--quick') {
      args.quick = true;
    } else if (flag === '--threads') {
      const value = argv[++i];
      const n = Number(value);
      if (value === undefined || !Number.isInteger(n) || n < 1) {
        throw new BenchArgsError(`--threads: expected a positive integer, got ${value ?? 'nothing'}`);
      }
      args.threads = n;
    } else {
      throw new BenchArgsError(`unknown argument ${flag} (expected --threads N or --quick)`);
    }
  }
  return args;
}

/** Runs a benchmark's main, printing a failure as one line on stderr with a non-zero exit. */
export async function runBenchMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    if (process.env.NORMSOFTMAX_DEBUG === '1' && e instanceof Error) console.error(e.stack);
    const message = e instanceof Error ? e.message : String(e);
    console.error(`bench: ${message.split('\n')[0]}`);
    process.exitCode = e instanceof BenchArgsError ? 2 : 1;
  }
}
