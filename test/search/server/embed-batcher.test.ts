// EmbedBatcher on its own: one bad image in a batch fails only its own request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmbedBatcher } from '../../../src/search/server/embed-batcher.js';
import type { QueryEmbedder } from '../../../src/search/types.js';
import { InputError } from '../../../src/util/errors.js';

/** Embeds [b0] per image; an image whose first byte is 0 is "undecodable" and fails the whole call. */
function stub(): QueryEmbedder & { calls: number[][] } {
  const calls: number[][] = [];
  return {
    dim: 1,
    calls,
    async embed(images) {
      calls.push(images.map((b) => b[0] as number));
      if (images.some((b) => b[0] === 0)) throw new InputError('image: cannot decode');
      return images.map((b) => new Float32Array([b[0] as number]));
    },
    async close() {},
  };
}

test('a batch with one bad image: the others are embedded one by one and answered, the bad one rejects', async () => {
  const e = stub();
  const sizes: number[] = [];
  const b = new EmbedBatcher(e, 4, 20, (n) => sizes.push(n));
  const results = await Promise.allSettled([1, 0, 3].map((x) => b.embed(new Uint8Array([x]))));
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value[0] : (r.reason as Error).message)),
    [1, 'image: cannot decode', 3],
  );
  assert.deepEqual(e.calls, [[1, 0, 3], [1], [0], [3]]);
  assert.deepEqual(sizes, [3]);
});

test('a lone image waits at most the window, then goes alone', async () => {
  const e = stub();
  const b = new EmbedBatcher(e, 16, 5);
  const v = await b.embed(new Uint8Array([7]));
  assert.deepEqual(Array.from(v), [7]);
  assert.deepEqual(e.calls, [[7]]);
});

test('an embedder with embedSettled answers per image in one call', async () => {
  const e = stub();
  const settledCalls: number[][] = [];
  const withSettled = Object.assign(e, {
    async embedSettled(images: readonly Uint8Array[]) {
      settledCalls.push(images.map((b) => b[0] as number));
      return images.map((b) =>
        b[0] === 0 ? new InputError('image 2: cannot decode') : new Float32Array([b[0] as number]),
      );
    },
  });
  const b = new EmbedBatcher(withSettled, 4, 20);
  const results = await Promise.allSettled([5, 0, 6].map((x) => b.embed(new Uint8Array([x]))));
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value[0] : (r.reason as Error).message)),
    [5, 'image 2: cannot decode', 6],
  );
  assert.deepEqual(settledCalls, [[5, 0, 6]]);
  assert.deepEqual(e.calls, []);
});
