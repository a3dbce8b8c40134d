// The checks both backends make before a search (src/search/search-checks.ts) and where an item's image
// may be (src/search/image-file.ts): inside the image root, symbolic links followed, nothing outside it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { imageFileUnder } from '../../src/search/image-file.js';
import { checkedRequest, DEFAULT_OVERSAMPLE, unitQueries } from '../../src/search/search-checks.js';
import { InputError, UsageError } from '../../src/util/errors.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'normsoftmax-search-checks-')));
after(() => rmSync(dir, { recursive: true, force: true }));

test('k, mode, oversample and ef: a UsageError naming the field; oversample defaults to 4, ef to the index', () => {
  assert.deepEqual(checkedRequest({ k: 3, mode: 'rerank' }), {
    k: 3,
    mode: 'rerank',
    oversample: DEFAULT_OVERSAMPLE,
    ef: null,
  });
  assert.equal(DEFAULT_OVERSAMPLE, 4);
  assert.deepEqual(checkedRequest({ k: 1, mode: 'binary', oversample: 9, ef: 40 }), {
    k: 1,
    mode: 'binary',
    oversample: 9,
    ef: 40,
  });
  const refused = (request: Parameters<typeof checkedRequest>[0], message: string) =>
    assert.throws(
      () => checkedRequest(request),
      (e: unknown) => e instanceof UsageError && e.message === message,
    );
  refused({ k: 0, mode: 'float' }, 'k: expected a positive integer, got 0');
  refused({ k: 1.5, mode: 'float' }, 'k: expected a positive integer, got 1.5');
  refused({ k: 1, mode: 'hamming' as 'binary' }, 'mode: expected float, binary or rerank, got "hamming"');
  refused({ k: 1, mode: 'rerank', oversample: 0 }, 'oversample: expected a positive integer, got 0');
  refused({ k: 1, mode: 'float', ef: 0 }, 'ef: expected an integer from 1 to 4096, got 0');
  refused({ k: 1, mode: 'float', ef: 4097 }, 'ef: expected an integer from 1 to 4096, got 4097');
});

test('queries: scaled to unit length (new arrays); a wrong length or a zero / non-finite vector is an InputError', () => {
  const q = Float32Array.of(3, 4);
  const [u] = unitQueries([q], 2);
  assert.deepEqual(u, Float32Array.of(0.6, 0.8));
  assert.deepEqual(q, Float32Array.of(3, 4));
  const refused = (queries: Float32Array[], message: string) =>
    assert.throws(
      () => unitQueries(queries, 2),
      (e: unknown) => e instanceof InputError && e.message === message,
    );
  refused([q, Float32Array.of(1, 2, 3)], "query 2 has 3 values, the index's vectors 2");
  refused([Float32Array.of(0, 0)], 'query 1 is a zero or non-finite vector');
  refused([Float32Array.of(Number.NaN, 1)], 'query 1 is a zero or non-finite vector');
  refused([Float32Array.of(Number.POSITIVE_INFINITY, 1)], 'query 1 is a zero or non-finite vector');
});

test("an item's image: inside the root (through links that stay inside), never outside it", () => {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'a'), { recursive: true });
  writeFileSync(join(root, 'a', 'x.png'), 'x');
  writeFileSync(join(dir, 'secret.png'), 's');
  symlinkSync(join(dir, 'secret.png'), join(root, 'out.png'));
  symlinkSync(join(root, 'a', 'x.png'), join(root, 'in.png'));
  symlinkSync(dir, join(root, 'up'));
  assert.equal(imageFileUnder(root, 'a/x.png'), join(root, 'a', 'x.png'));
  assert.equal(imageFileUnder(root, 'in.png'), join(root, 'a', 'x.png'));
  assert.equal(imageFileUnder(root, 'a/../a/x.png'), join(root, 'a', 'x.png'));
  for (const path of ['out.png', 'up/secret.png', '../secret.png', join(dir, 'secret.png'), 'missing.png', '.'])
    assert.equal(imageFileUnder(root, path), null, path);
  assert.equal(imageFileUnder(null, 'a/x.png'), null);
  assert.equal(imageFileUnder(root, null), null);
});
