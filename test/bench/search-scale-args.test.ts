// bench/search --scale's arguments: the item count as 1m / 100k / 20000, the HNSW settings and the ef list,
// each refused with one line naming the flag.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScale, parseScaleArgs } from '../../bench/search/scale.js';

test('--scale takes 1m, 100k and plain counts; the rest default to M 16, efConstruction 128', () => {
  assert.equal(parseScale('1m'), 1_000_000);
  assert.equal(parseScale('100K'), 100_000);
  assert.equal(parseScale('20000'), 20_000);
  assert.deepEqual(parseScaleArgs(['--scale', '50k']), {
    items: 50_000,
    m: 16,
    efConstruction: 128,
    efs: [16, 32, 64, 128, 256],
    queries: 1000,
  });
  assert.deepEqual(
    parseScaleArgs([
      '--scale',
      '1m',
      '--hnsw-m',
      '32',
      '--hnsw-ef-construction',
      '200',
      '--efs',
      '8,64',
      '--queries',
      '50',
    ]),
    { items: 1_000_000, m: 32, efConstruction: 200, efs: [8, 64], queries: 50 },
  );
});

test('bad arguments are refused naming the flag', () => {
  assert.throws(() => parseScale('1g'), /^Error: --scale: expected a count of items such as 1m/);
  assert.throws(() => parseScale('10'), /--scale: expected/);
  assert.throws(() => parseScaleArgs([]), /--scale: required/);
  assert.throws(() => parseScaleArgs(['--scale', '20k', '--efs', '16,x']), /--efs: expected a positive integer, got x/);
  assert.throws(() => parseScaleArgs(['--scale', '20k', '--hnsw-m', '0']), /--hnsw-m: expected a positive integer/);
  assert.throws(() => parseScaleArgs(['--scale', '20k', '--threads', '2']), /unknown argument --threads/);
});
