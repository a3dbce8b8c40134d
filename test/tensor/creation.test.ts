// Creating tensors and reading them back: every dtype through tensor()/toTypedArray(), constant
// fills and ranges, with hand-computed expectations.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  arange,
  ELEMENT_SIZE,
  eye,
  full,
  linspace,
  ones,
  onesLike,
  scalar,
  scope,
  tensor,
  zeros,
  zerosLike,
} from '../../src/tensor/index.js';

describe('dtype round trips through tensor() and toTypedArray()', () => {
  test('float32 keeps every bit, including extremes and -0', () => {
    scope(() => {
      const data = Float32Array.of(0, -0, 1.5, -3.25e-38, 3.4028234663852886e38, Number.POSITIVE_INFINITY, 1 / 3);
      const t = tensor(data);
      assert.equal(t.dtype, 'float32');
      assert.deepEqual(t.toTypedArray(), data);
      assert.ok(Object.is((t.toTypedArray() as Float32Array)[1], -0));
      assert.deepEqual([...t.toBytes().slice(8, 12)], [0, 0, 0xc0, 0x3f], '1.5 as little-endian float32 bytes');
    });
  });
  test('float64 keeps full precision', () => {
    scope(() => {
      const data = Float64Array.of(Math.PI, 1e-300, -(2 ** 60), 0.1);
      const t = tensor(data, { shape: [2, 2] });
      assert.equal(t.dtype, 'float64');
      assert.deepEqual(t.shape, [2, 2]);
      assert.deepEqual(t.toTypedArray(), data);
    });
  });
  test('float16 rounds to half precision and reads back as float32', () => {
    scope(() => {
      const t = tensor([1, -2.5, 65504, 0.1, 1e-8], { dtype: 'float16' });
      assert.equal(t.dtype, 'float16');
      // 0.1 -> 0x2E66 = 0.0999755859375; 1e-8 is below the smallest subnormal (5.96e-8) and becomes 0
      assert.deepEqual(t.toArray(), [1, -2.5, 65504, 0.0999755859375, 0]);
      assert.equal(t.toBytes().length, 10);
      // raw half bits in a Uint16Array: 0x3C00 = 1, 0xC000 = -2, 0x7BFF = 65504
      const bits = tensor(Uint16Array.of(0x3c00, 0xc000, 0x7bff));
      assert.equal(bits.dtype, 'float16');
      assert.deepEqual(bits.toArray(), [1, -2, 65504]);
    });
  });
  test('bfloat16 keeps 8 significant bits (round to nearest even)', () => {
    scope(() => {
      const t = tensor([1, -2.5, 1.01, 1.00390625, 3e38], { dtype: 'bfloat16' });
      assert.equal(t.dtype, 'bfloat16');
      // 1.01 -> 1 + 1/128; 1 + 1/256 is a tie and rounds to the even 1; 3e38 -> 0x7F62 = 1.765625 * 2^127
      assert.deepEqual(t.toArray(), [1, -2.5, 1.0078125, 1, 1.765625 * 2 ** 127]);
      assert.deepEqual([...t.toBytes().slice(0, 2)], [0x80, 0x3f], '1.0 as bfloat16 bytes');
    });
  });
  test('int64 is exact beyond 2^53 through BigInt64Array', () => {
    scope(() => {
      const data = BigInt64Array.of(-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n, 0n);
      const t = tensor(data);
      assert.equal(t.dtype, 'int64');
      assert.deepEqual(t.toTypedArray(), data);
      assert.deepEqual(tensor([3, -7.9], { dtype: 'int64' }).toArray(), [3, -7], 'numbers truncate toward zero');
    });
  });
  test('int32, int16, int8 and uint8 keep their ranges', () => {
    scope(() => {
      const cases = [
        Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 0),
        Int16Array.of(-32768, 32767),
        Int8Array.of(-128, 127),
        Uint8Array.of(0, 128, 255),
      ];
      const names = ['int32', 'int16', 'int8', 'uint8'];
      cases.forEach((data, i) => {
        const t = tensor(data);
        assert.equal(t.dtype, names[i]);
        assert.deepEqual(t.toTypedArray(), data);
        assert.equal(t.toBytes().length, data.length * ELEMENT_SIZE[t.dtype]);
      });
    });
  });
  test('bool from numbers, from comparisons, and converted to numbers', () => {
    scope(() => {
      const t = tensor([1, 0, 1, 1], { dtype: 'bool' });
      assert.equal(t.dtype, 'bool');
      assert.deepEqual(t.toTypedArray(), Uint8Array.of(1, 0, 1, 1));
      const cmp = tensor([1, 5, 3]).gt(2);
      assert.equal(cmp.dtype, 'bool');
      assert.deepEqual(cmp.toArray(), [0, 1, 1]);
      assert.deepEqual(cmp.to('float32').toArray(), [0, 1, 1]);
    });
  });
  test('to() converts between dtypes with truncation and saturation as in PyTorch', () => {
    scope(() => {
      const x = tensor([-1.7, 2.5, 300]);
      assert.deepEqual(x.to('int32').toArray(), [-1, 2, 300]);
      assert.deepEqual(x.to('float64').toArray(), [-1.7000000476837158, 2.5, 300]);
      assert.deepEqual(tensor([0, -0.5, 2]).to('bool').toArray(), [0, 1, 1]);
      assert.deepEqual(x.float().dtype, 'float32');
      assert.deepEqual(x.long().toArray(), [-1, 2, 300]);
    });
  });
  test('nested arrays give the shape; a ragged or short fill is rejected', () => {
    scope(() => {
      const t = tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      assert.deepEqual(t.shape, [2, 3]);
      assert.equal(t.dtype, 'float32');
      assert.deepEqual(t.toArray(), [1, 2, 3, 4, 5, 6]);
      assert.throws(() => tensor([[1, 2], [3]]), /do not fill shape \[2, 2\]/);
      const s = scalar(4.5);
      assert.deepEqual(s.shape, []);
      assert.equal(s.item(), 4.5);
    });
  });
});

describe('fills and ranges', () => {
  test('zeros, ones, full, and the *Like variants', () => {
    scope(() => {
      const z = zeros([2, 3], { dtype: 'int32' });
      assert.deepEqual([z.shape, z.dtype, z.toArray()], [[2, 3], 'int32', [0, 0, 0, 0, 0, 0]]);
      const o = ones([3], { dtype: 'float64' });
      assert.deepEqual([o.dtype, o.toArray()], ['float64', [1, 1, 1]]);
      const f = full([2, 2], 7, { dtype: 'int64' });
      assert.deepEqual([f.dtype, f.toArray()], ['int64', [7, 7, 7, 7]]);
      assert.deepEqual(full([2], -0.25).toArray(), [-0.25, -0.25]);
      assert.equal(zeros([]).numel, 1);
      assert.equal(zeros([0, 4]).numel, 0);
      const like = onesLike(z);
      assert.deepEqual([like.shape, like.dtype, like.toArray()], [[2, 3], 'int32', [1, 1, 1, 1, 1, 1]]);
      assert.deepEqual(zerosLike(o).toArray(), [0, 0, 0]);
    });
  });
  test('arange: int64 for integer arguments, float32 otherwise, end excluded', () => {
    scope(() => {
      const a = arange(5);
      assert.deepEqual([a.dtype, a.toArray()], ['int64', [0, 1, 2, 3, 4]]);
      assert.deepEqual(arange(2, 11, 3).toArray(), [2, 5, 8]);
      assert.deepEqual(arange(3, 0, -1).toArray(), [3, 2, 1]);
      const f = arange(0, 1, 0.25);
      assert.deepEqual([f.dtype, f.toArray()], ['float32', [0, 0.25, 0.5, 0.75]]);
      assert.deepEqual(arange(4, undefined, 1, { dtype: 'float64' }).dtype, 'float64');
      assert.throws(() => arange(0, 5, 0), /step must not be 0/);
    });
  });
  test('linspace includes both ends', () => {
    scope(() => {
      assert.deepEqual(linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
      assert.deepEqual(linspace(-1, 1, 3, { dtype: 'float64' }).toArray(), [-1, 0, 1]);
      assert.deepEqual(linspace(2, 2, 1).toArray(), [2]);
    });
  });
  test('eye', () => {
    scope(() => {
      const e = eye(3);
      assert.deepEqual(e.shape, [3, 3]);
      assert.deepEqual(e.toArray(), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
      assert.equal(eye(2, { dtype: 'int64' }).dtype, 'int64');
    });
  });
});
