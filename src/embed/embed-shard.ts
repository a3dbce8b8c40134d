// Embedding shared by the ranks of a data-parallel job (`embed` in a job, evaluation during data-parallel
// training): rank r embeds the r-th contiguous slice of the images (ceil(N / W) each, the last ones
// shorter or empty), every slice is padded with zero rows to the same size for the allgather, and rank 0
// trims the padding: its rows are those of one process embedding all N. The gather itself is the job's
// (src/parallel/embed-shard.ts over c10d; the training loop's DataParallel).
import type { Sample } from '../data/types.js';
import { type Tensor, tensor } from '../tensor/index.js';

/** The ranks of a job as embedding needs them. */
export interface EmbeddingShard {
  readonly rank: number;
  readonly worldSize: number;
  /** Every rank's `local` (rank order; each has `rows` rows) stacked on rank 0; null on the others. */
  gather(local: Tensor, rows: number): Promise<Tensor | null>;
}

export interface Slice {
  start: number;
  end: number;
  /** Rows of every rank's padded slice. */
  per: number;
}

export function embeddingSlice(total: number, rank: number, worldSize: number): Slice {
  const per = Math.ceil(total / worldSize);
  const start = Math.min(total, rank * per);
  return { start, end: Math.min(total, start + per), per };
}

/**
 * The samples' embeddings (samples.length x dim, row-major) on rank 0, null on the other ranks; `embed`
 * embeds this rank's slice (never called with no samples: an empty slice is zero rows).
 */
export async function embedSharded(
  shard: EmbeddingShard,
  samples: readonly Sample[],
  dim: number,
  embed: (mine: readonly Sample[]) => Promise<Float32Array>,
): Promise<Float32Array | null> {
  const slice = embeddingSlice(samples.length, shard.rank, shard.worldSize);
  const mine = slice.end > slice.start ? await embed(samples.slice(slice.start, slice.end)) : new Float32Array(0);
  const padded = new Float32Array(slice.per * dim);
  padded.set(mine.subarray(0, (slice.end - slice.start) * dim));
  const local = tensor(padded, { shape: [slice.per, dim] });
  try {
    const all = await shard.gather(local, slice.per);
    if (all === null) return null;
    try {
      return (all.toTypedArray() as Float32Array).slice(0, samples.length * dim);
    } finally {
      all.dispose();
    }
  } finally {
    local.dispose();
  }
}
