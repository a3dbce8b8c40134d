// selectBest (the delta's top-k in the live engine) against a full sort by score then row: generated scores
// with many ties, rows in any order, every k from 0 to past the end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { selectBest } from '../../src/search/usearch/live-engine.js';

test('selectBest equals sorting every score (ties: the lower row first) and taking k', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 60 }),
      fc.integer({ min: 0, max: 70 }),
      fc.integer({ min: 1, max: 1000 }),
      (values, k, seed) => {
        const scores = Float64Array.from(values, (v) => v / 2);
        const rows = values.map((_, i) => (i * 7919 + seed) % 1009);
        const want = values
          .map((_, i) => i)
          .sort((a, b) => (scores[b] as number) - (scores[a] as number) || (rows[a] as number) - (rows[b] as number))
          .slice(0, k);
        assert.deepEqual(
          selectBest(scores, (i) => rows[i] as number, k),
          want,
        );
      },
    ),
    { numRuns: 500 },
  );
});
