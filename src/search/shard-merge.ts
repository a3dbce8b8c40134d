// The merge of a search fanned out over shards (docs/scaling.md): each shard is an ordinary index over a
// part of the items, asked for the same k with the same query, mode and filter; the answer is the k best of
// their lists. Order is by score, best first, and ties go to the lower (shard number, position in the
// shard's list). Each shard orders its own ties by row, so when the shards hold consecutive ranges of one
// index's rows (shard 0 the first rows, and so on) the merged list is the one that index gives, ties
// included: exactly so for exact search (test/search/shard-merge.test.ts), and for HNSW the union of each
// shard's approximate best.
import { UsageError } from '../util/errors.js';
import type { SearchHit } from './types.js';

/** One shard's answer to one query, best first (as `search` and POST /api/search return it). */
export type ShardHits = readonly Pick<SearchHit, 'score'>[];

/**
 * The k best hits of all shards' lists for one query. Binary scores (bits in common) tie often; the tie
 * rule makes the answer the same whichever shard answers first.
 */
export function mergeShardHits<H extends Pick<SearchHit, 'score'>>(shards: readonly (readonly H[])[], k: number): H[] {
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`k: expected a positive integer, got ${k}`);
  const at = shards.map(() => 0);
  const out: H[] = [];
  // A k-way merge of sorted lists: the next hit is the best head, the lowest shard among equal heads.
  while (out.length < k) {
    let best = -1;
    let bestHit: H | undefined;
    for (let s = 0; s < shards.length; s++) {
      const head = shards[s]?.[at[s] as number];
      if (head === undefined) continue;
      if (bestHit === undefined || head.score > bestHit.score) {
        best = s;
        bestHit = head;
      }
    }
    if (bestHit === undefined) break;
    out.push(bestHit);
    at[best] = (at[best] as number) + 1;
  }
  return out;
}
