// An in-process data-parallel world for src/embed's EmbeddingShard: each rank's gather waits for every
// rank (as c10d's allgather does) and rank 0 gets the slices stacked in rank order; barrier() waits for
// every rank too. Ranks run concurrently in one process (Promise.all over them).
import assert from 'node:assert/strict';
import type { EmbeddingShard } from '../../src/embed/embed-shard.js';
import { cat, type Tensor } from '../../src/tensor/index.js';

/** A meeting point for n parties, usable again and again (each round resolves when all n arrived). */
function rendezvous(n: number): () => Promise<void> {
  let arrived = 0;
  let release: () => void = () => {};
  let round = new Promise<void>((resolve) => {
    release = resolve;
  });
  return () => {
    const mine = round;
    if (++arrived === n) {
      arrived = 0;
      release();
      round = new Promise<void>((resolve) => {
        release = resolve;
      });
    }
    return mine;
  };
}

export interface FakeWorld {
  shards: (EmbeddingShard & { barrier(): Promise<void> })[];
  /** The shape each rank sent to the gather. */
  sent: number[][];
}

export function fakeWorld(worldSize: number): FakeWorld {
  const locals: Tensor[] = new Array(worldSize);
  const sent: number[][] = [];
  const gathered = rendezvous(worldSize);
  const barrier = rendezvous(worldSize);
  const shards = Array.from({ length: worldSize }, (_, rank) => ({
    rank,
    worldSize,
    async gather(local: Tensor, rows: number) {
      assert.equal(local.size(0), rows, `rank ${rank} sends its padded slice`);
      sent[rank] = local.shape.slice();
      locals[rank] = local.clone();
      await gathered();
      if (rank !== 0) return null;
      const stacked = cat(locals, 0);
      for (const t of locals) t.dispose();
      return stacked;
    },
    barrier,
  }));
  return { shards, sent };
}
