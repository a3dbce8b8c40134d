// A data-parallel job's ranks as src/embed's EmbeddingShard: the slicing, padding and trimming are
// src/embed/embed-shard.ts's; the gather is c10d's allgather (DataParallel.gatherRows), rank 0 keeping it.
import type { EmbeddingShard } from '../embed/embed-shard.js';
import type { DataParallel } from '../train/parallel.js';

/** The shard of `embed` in a job; barrier() is the job's (rank 0 fills caches before the others read them). */
export function embeddingShard(parallel: DataParallel): EmbeddingShard & { barrier(): Promise<void> } {
  return {
    rank: parallel.rank,
    worldSize: parallel.worldSize,
    gather: (local) => parallel.gatherRows(local),
    barrier: () => parallel.barrier(),
  };
}
