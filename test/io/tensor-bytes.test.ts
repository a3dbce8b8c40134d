// Strided views of raw storage bytes: dense permutations, gathers at any alignment, bounds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tensorFromStrided, viewExtent } from '../../src/io/tensor-bytes.js';
import { type DType, scope } from '../../src/tensor/index.js';

/** The storage 0, 1, 2, ... in `dtype`, placed at byte offset `shift` of a larger buffer. */
function storage(n: number, dtype: 'float64' | 'int32', shift: number): Uint8Array {
  const values = dtype === 'float64' ? new Float64Array(n) : new Int32Array(n);
  values.forEach((_, i) => {
    values[i] = i;
  });
  const out = new Uint8Array(values.byteLength + shift + 3);
  out.set(new Uint8Array(values.buffer), shift);
  return out.subarray(shift, shift + values.byteLength);
}

/** The expected row-major values: element i of the view is storage[offset + sum(index_d * stride_d)]. */
function naive(shape: number[], strides: number[], offset: number): number[] {
  const out: number[] = [];
  const walk = (d: number, at: number) => {
    if (d === shape.length) out.push(at);
    else for (let i = 0; i < (shape[d] as number); i++) walk(d + 1, at + i * (strides[d] as number));
  };
  walk(0, offset);
  return out;
}

describe('tensorFromStrided', () => {
  const views: [string, number[], number[], number][] = [
    ['contiguous with offset', [2, 3], [3, 1], 4],
    ['transposed', [3, 2], [1, 3], 0],
    ['permuted 3-d', [4, 2, 3], [1, 12, 4], 0],
    ['step slice', [2, 3], [8, 2], 1],
    ['broadcast row', [3, 4], [0, 1], 2],
    ['column', [5], [4], 3],
    ['0-d', [], [], 7],
    ['size-1 dims with odd strides', [1, 3, 1], [99, 2, 77], 0],
    ['empty', [0, 4], [4, 1], 0],
  ];
  for (const dtype of ['float64', 'int32'] as const) {
    for (const shift of [0, 1, 2]) {
      test(`${dtype} at byte offset ${shift}`, () =>
        scope(() => {
          const bytes = storage(24, dtype, shift);
          for (const [name, shape, strides, offset] of views) {
            assert.ok(viewExtent(shape, strides, offset) <= 24, name);
            const t = tensorFromStrided(bytes, dtype as DType, shape, strides, offset);
            assert.deepEqual(t.shape, shape, name);
            assert.ok(t.isContiguous(), name);
            assert.deepEqual(t.toArray(), naive(shape, strides, offset), `${name} (${dtype}, shift ${shift})`);
          }
        }));
    }
  }

  test('float16 bits are copied unchanged (2-byte words)', () =>
    scope(() => {
      const bits = Uint16Array.of(0x3c00, 0x7e01, 0xfc00, 0x8000, 0x0001, 0x4000);
      const t = tensorFromStrided(new Uint8Array(bits.buffer), 'float16', [3], [2], 0);
      assert.deepEqual([...new Uint16Array(t.toBytes().buffer)], [0x3c00, 0xfc00, 0x0001]);
    }));

  test('viewExtent is one past the last element touched', () => {
    assert.equal(viewExtent([2, 3], [8, 2], 1), 1 + 8 + 4 + 1);
    assert.equal(viewExtent([0, 3], [3, 1], 5), 5);
    assert.equal(viewExtent([], [], 7), 8);
  });
});
