// What the training loop needs from data-parallel training (src/parallel implements DataParallel over
// c10d; the single-process run has none), and the hooks the trainer calls (TrainingHooks): the same
// steps run in one process and on every rank, the hooks being where they differ.
import type { Tensor } from '../tensor/index.js';
import { accumulatedRowGrad } from '../tensor/row-sparse.js';

export interface DataParallel {
  readonly rank: number;
  readonly worldSize: number;
  /** Rank 0: it prints progress and writes metrics, checkpoints and reports. */
  readonly isMain: boolean;
  /** This rank's slice of one global batch (every rank draws the same global batch from a shared seed). */
  shard(indices: readonly number[]): number[];
  /** Once before training: every rank takes rank 0's parameters and buffers (DDP's start). */
  start(parameters: readonly Tensor[], buffers: readonly Tensor[]): Promise<void>;
  /** Before each forward: rank 0's buffers (BatchNorm statistics; DDP's broadcast_buffers). */
  beforeForward(buffers: readonly Tensor[]): Promise<void>;
  /**
   * After backward: each gradient replaced by its mean over the ranks (in place). Returns the loss
   * averaged over the ranks, so every rank agrees on whether to step (a non-finite loss anywhere is
   * non-finite everywhere).
   */
  averageGradients(grads: readonly Tensor[], loss: number): Promise<number>;
  /** Every rank's `local` (the same shape on each) stacked in rank order on rank 0; null on the others. */
  gatherRows(local: Tensor): Promise<Tensor | null>;
  /** Every rank waits here (around rank 0's checkpoint and evaluation). */
  barrier(): Promise<void>;
}

/**
 * The trainer's hooks into the processes it runs in: ONE_PROCESS (they do nothing) or a data-parallel
 * rank (dataParallelHooks). The gradient all-reduce is one of them; the trainer's step is the same code
 * either way.
 */
export interface TrainingHooks {
  readonly rank: number;
  readonly worldSize: number;
  /** The process that prints progress and writes metrics and checkpoints. */
  readonly isMain: boolean;
  /** This process's part of a global batch. */
  shard(indices: number[]): number[];
  /** Once before the first epoch. */
  start(parameters: readonly Tensor[], buffers: readonly Tensor[]): Promise<void>;
  /** Before each forward (of a training batch, and of the evaluation). */
  beforeForward(buffers: readonly Tensor[]): Promise<void>;
  /**
   * The gradient all-reduce: after backward, before the optimiser step. `parameters` may hold dense
   * gradients, `rowSparse` also row gradients (src/tensor/row-sparse.ts). Returns the loss to decide the
   * step on (the same on every rank).
   */
  allReduceGradients(parameters: readonly Tensor[], rowSparse: readonly Tensor[], loss: number): Promise<number>;
  /** After each epoch's record and checkpoint. */
  endOfEpoch(): Promise<void>;
}

const nothing = async (): Promise<void> => {};

/** A single process: its batch is the global batch and its gradients are the gradients. */
export const ONE_PROCESS: TrainingHooks = {
  rank: 0,
  worldSize: 1,
  isMain: true,
  shard: (indices) => indices,
  start: nothing,
  beforeForward: nothing,
  allReduceGradients: async (_parameters, _rowSparse, loss) => loss,
  endOfEpoch: nothing,
};

/** The hooks of one rank of a data-parallel job (DDP's semantics: src/parallel implements DataParallel). */
export function dataParallelHooks(p: DataParallel): TrainingHooks {
  return {
    rank: p.rank,
    worldSize: p.worldSize,
    isMain: p.isMain,
    shard: (indices) => p.shard(indices),
    start: (parameters, buffers) => p.start(parameters, buffers),
    beforeForward: (buffers) => p.beforeForward(buffers),
    allReduceGradients: async (parameters, rowSparse, loss) => {
      const grads = parameters.flatMap((t) => {
        const g = t.grad;
        return g === null ? [] : [g];
      });
      const rowGrads = rowSparse.flatMap((t) => {
        const g = accumulatedRowGrad(t);
        return g === null ? [] : [g];
      });
      try {
        return await p.averageGradients([...grads, ...rowGrads], loss);
      } finally {
        for (const g of grads) g.dispose();
      }
    },
    endOfEpoch: () => p.barrier(),
  };
}
