// `embed` as a data-parallel job: rank r embeds the r-th contiguous slice of the images (ceil(N / W)
// each, the last ones shorter or empty), every slice is padded with zero rows to the same size for
// the allgather, and rank 0 trims the padding: its rows are those of one process embedding all N.
import { tensor } from '../tensor/index.js';
import type { DataParallel } from '../train/parallel.js';

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

/** Gathers every rank's rows (`mine`, (end - start) x dim) on rank 0: total x dim there, null elsewhere. */
export async function gatherEmbeddings(
  parallel: DataParallel,
  mine: Float32Array,
  slice: Slice,
  total: number,
  dim: number,
): Promise<Float32Array | null> {
  const padded = new Float32Array(slice.per * dim);
  padded.set(mine.subarray(0, (slice.end - slice.start) * dim));
  const local = tensor(padded, { shape: [slice.per, dim] });
  try {
    const all = await parallel.gatherRows(local);
    if (all === null) return null;
    try {
      return (all.toTypedArray() as Float32Array).slice(0, total * dim);
    } finally {
      all.dispose();
    }
  } finally {
    local.dispose();
  }
}
