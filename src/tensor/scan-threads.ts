// The thread count the exact search kernels (src/tensor/kernels/scan.ts) use when a scan names none.
// Where libtorch is loaded in this thread (src/tensor/native.ts registers itself), libtorch's intra-op
// count, which setNumThreads() changes; elsewhere (a process or worker that only searches, which must not
// load libtorch for it) the count libtorch would start with: NORMSOFTMAX_THREADS, else OMP_NUM_THREADS
// (libtorch's OpenMP reads it), else every core.
import { availableParallelism } from 'node:os';

let libtorchThreads: (() => number) | null = null;

/** Called by src/tensor/native.ts once libtorch is loaded: scans then default to its thread count. */
export function followLibtorchThreads(count: () => number): void {
  libtorchThreads = count;
}

/** The intra-op thread count libtorch starts with in this environment (src/tensor/native.ts sets it so). */
export function environmentThreads(env: NodeJS.ProcessEnv = process.env): number {
  const chosen = env.NORMSOFTMAX_THREADS;
  if (chosen) return Math.max(1, Number.parseInt(chosen, 10) || 1);
  // OpenMP takes the first entry of a list ("4,2"); a value it cannot read leaves its default, every core.
  const omp = Number.parseInt(env.OMP_NUM_THREADS?.split(',')[0] ?? '', 10);
  if (Number.isInteger(omp) && omp >= 1) return omp;
  return availableParallelism();
}

export function defaultScanThreads(): number {
  return libtorchThreads !== null ? libtorchThreads() : environmentThreads();
}
