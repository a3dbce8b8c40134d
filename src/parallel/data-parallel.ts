// DataParallel (src/train/parallel.ts) over a c10d process group, with PyTorch DDP's semantics:
// rank 0's parameters and buffers at start, its buffers before each forward (broadcast_buffers),
// gradients averaged in ~25 MB flat buckets, and one global batch sliced across the ranks.
import { cat, noGrad, type Tensor, zeros } from '../tensor/index.js';
import type { ProcessGroup } from '../tensor/process-group.js';
import type { DataParallel } from '../train/parallel.js';
import { FailureError } from '../util/errors.js';
import { averageInBuckets, DEFAULT_BUCKET_BYTES } from './grad-buckets.js';
import { Liveness } from './liveness.js';
import { describeCollectiveFailure } from './open-group.js';
import { shardBatch } from './shard.js';

export function createDataParallel(pg: ProcessGroup, o: { bucketBytes?: number } = {}): DataParallel {
  const { rank, worldSize } = pg;
  const bucketBytes = o.bucketBytes ?? DEFAULT_BUCKET_BYTES;
  // With more than two ranks, heartbeats in the store tell which peer failed.
  const liveness = worldSize > 2 ? new Liveness(pg) : null;
  // A failed collective is one line naming the rank that went away (FailureError: exit 1).
  const guard = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    liveness?.enter();
    try {
      return await run();
    } catch (e) {
      if (e instanceof FailureError) throw e;
      const named = liveness ? await liveness.failedRanks() : undefined;
      throw new FailureError(describeCollectiveFailure(rank, worldSize, what, (e as Error).message, named));
    }
  };
  const broadcastInPlace = (what: string, tensors: readonly Tensor[]) =>
    guard(what, async () => {
      if (tensors.length === 0) return;
      // Parameters are autograd leaves: the broadcast writes them through detached aliases. Gloo needs
      // row-major memory: a channels_last weight (bf16 training) travels as a row-major copy.
      const aliases = noGrad(() => tensors.map((t) => t.detach()));
      const staged = aliases.map((a) => (a.isContiguous() ? a : a.contiguous()));
      const copies = staged.flatMap((s, i) => (s === aliases[i] ? [] : [[aliases[i] as Tensor, s] as const]));
      try {
        await pg.broadcast(staged, 0);
        noGrad(() => {
          for (const [alias, copy] of copies) alias.copy_(copy);
        });
      } finally {
        for (const a of aliases) a.dispose();
        for (const [, copy] of copies) copy.dispose();
      }
    });
  return {
    rank,
    worldSize,
    isMain: rank === 0,
    shard: (indices) => shardBatch(indices, rank, worldSize),
    start: (parameters, buffers) => broadcastInPlace('the start broadcast', [...parameters, ...buffers]),
    beforeForward: (buffers) => broadcastInPlace('the buffer broadcast', buffers),
    averageGradients: (grads, loss) =>
      guard('the gradient allreduce', async () => {
        const [mean] = await averageInBuckets(pg, grads, [loss], bucketBytes);
        return mean as number;
      }),
    gatherRows: (local) =>
      guard('the evaluation gather', async () => {
        const parts = Array.from({ length: worldSize }, () => zeros([...local.shape], { dtype: local.dtype }));
        try {
          await pg.allgather(local.isContiguous() ? local : local.contiguous(), parts);
          return rank === 0 ? cat(parts) : null;
        } finally {
          for (const p of parts) p.dispose();
        }
      }),
    barrier: () => guard('a barrier', () => pg.barrier()),
  };
}
