// Integer and typed-array arguments at the addon boundary: a JS number that is not an integer in
// int64's range is refused (it used to be truncated: 1.5 -> 1, NaN -> 0), and a typed array of the
// wrong type is refused instead of being read as another (imageToChw read a Float32Array mean/std as
// doubles, past its end).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { arange, ones, scope } from '../../src/tensor/index.js';
import { native } from '../../src/tensor/native.js';

// The addon without its TypeScript signatures, to pass what the types forbid.
const untyped = native as unknown as Record<'narrow' | 'imageToChw', (...args: unknown[]) => unknown>;

describe('integer arguments', () => {
  for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0.5, 2 ** 63, 1e300]) {
    test(`${bad} where an integer is expected is a RangeError naming the argument`, () => {
      scope(() => {
        const t = arange(6);
        assert.throws(
          () => untyped.narrow(t.handle, 0, bad, 1),
          (e: Error) => {
            assert.ok(e instanceof RangeError, e.message);
            assert.match(e.message, /^argument 2: expected an integer \(in int64 range\), got /);
            return true;
          },
        );
        // Through the public API too, and in an integer list (a shape).
        assert.throws(() => t.narrow(0, bad, 1), RangeError);
        assert.throws(() => t.view(bad), /argument 1: expected an array of integers/);
      });
    });
  }

  test('integers still pass, up to the int64 range, and -0 is 0', () => {
    scope(() => {
      const t = arange(6);
      assert.deepEqual(t.narrow(0, 2, 3).toArray(), [2, 3, 4]);
      assert.deepEqual(t.narrow(0, -0, 1).toArray(), [0]);
      assert.deepEqual(t.view(2, 3).shape, [2, 3]);
      assert.deepEqual(t.view(-1, 2).shape, [3, 2]);
      // -2^63 is an int64; 2^62 is out of the tensor's range, which libtorch reports (not a truncation).
      assert.throws(() => t.narrow(0, -(2 ** 63), 1), /start out of range|out of range/i);
    });
  });
});

describe('typed-array arguments of imageToChw', () => {
  const src = Uint8Array.from([10, 20, 30, 40, 50, 60]); // 2x1 RGB
  const call = (mean: unknown, std: unknown, out: unknown = new Float32Array(6)) =>
    untyped.imageToChw(src, 2, 1, 3, 0, 0, 2, 1, false, 3, 255, mean, std, false, out, 0);

  test('Float64Array mean and std are read as given', () => {
    const out = new Float32Array(6);
    call(Float64Array.of(0, 0, 0), Float64Array.of(1, 1, 1), out);
    assert.deepEqual(
      [...out],
      [10, 40, 20, 50, 30, 60].map((v) => Math.fround(Math.fround(v) / 255)),
    );
  });

  for (const [name, make] of [
    ['Float32Array', (n: number) => new Float32Array(n).fill(1)],
    ['Uint8Array', (n: number) => new Uint8Array(n).fill(1)],
    ['BigInt64Array', (n: number) => new BigInt64Array(n)],
    ['plain array', (n: number) => new Array(n).fill(1)],
  ] as const) {
    test(`a ${name} mean or std is a TypeError`, () => {
      assert.throws(() => call(make(3), Float64Array.of(1, 1, 1)), /imageToChw: mean and std must be Float64Arrays/);
      assert.throws(() => call(Float64Array.of(0, 0, 0), make(3)), /imageToChw: mean and std must be Float64Arrays/);
    });
  }

  test('out must be a Float32Array with room for the image', () => {
    assert.throws(() => call(Float64Array.of(0, 0, 0), Float64Array.of(1, 1, 1), new Float64Array(6)), /Float32Array/);
    assert.throws(() => call(Float64Array.of(0, 0, 0), Float64Array.of(1, 1, 1), new Float32Array(5)), /too small/);
  });
});

test('ones() of a fractional size is refused, not rounded down', () => {
  assert.throws(() => native.ones([2.5]), /argument 0: expected an array of integers/);
  assert.deepEqual(ones([2]).shape, [2]);
});
