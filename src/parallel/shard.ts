// One global batch sliced across the ranks: rank r takes the r-th contiguous slice, so a
// class-balanced batch (classes one after another) gives each rank whole classes when the slice
// size is a multiple of the images per class, and --batch-size stays the global batch.
export function shardBatch(indices: readonly number[], rank: number, worldSize: number): number[] {
  if (indices.length % worldSize !== 0) {
    throw new RangeError(`a batch of ${indices.length} cannot be split evenly across ${worldSize} ranks`);
  }
  const per = indices.length / worldSize;
  return indices.slice(rank * per, (rank + 1) * per);
}
