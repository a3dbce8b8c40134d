// What the training loop needs from data-parallel training (src/parallel implements it over c10d; the
// single-process run has none). The loop stays the same: it asks the hooks at four points.
import type { Tensor } from '../tensor/index.js';

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
