// Bit operations for binary codes: bitwise and/or/xor/not on uint8, popcount and Hamming distances,
// against plain JavaScript loops.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { F, Generator, randint, scope, tensor } from '../../src/tensor/index.js';

const u8 = (values: number[], shape?: number[]) => tensor(Uint8Array.from(values), { shape });

function popcount(byte: number): number {
  let n = 0;
  for (let b = byte; b > 0; b >>= 1) n += b & 1;
  return n;
}

describe('bitwise ops on uint8', () => {
  test('and, or, xor, not, shifts (tensor and number operands)', () => {
    scope(() => {
      const a = u8([0b1100_1010, 0xff, 0x00]);
      const b = u8([0b1010_0110, 0x0f, 0xff]);
      assert.deepEqual(a.bitwiseAnd(b).toArray(), [0b1000_0010, 0x0f, 0x00]);
      assert.deepEqual(a.bitwiseOr(b).toArray(), [0b1110_1110, 0xff, 0xff]);
      assert.deepEqual(a.bitwiseXor(b).toArray(), [0b0110_1100, 0xf0, 0xff]);
      assert.deepEqual(a.bitwiseNot().toArray(), [0b0011_0101, 0x00, 0xff]);
      assert.deepEqual(a.bitwiseAnd(0x0f).toArray(), [0x0a, 0x0f, 0x00]);
      assert.deepEqual(a.shiftRight(4).toArray(), [0x0c, 0x0f, 0x00]);
      assert.deepEqual(u8([0b0000_0011]).shiftLeft(3).toArray(), [0b0001_1000]);
      assert.equal(a.bitwiseXor(b).dtype, 'uint8');
    });
  });
  test('popcount of every byte value', () => {
    scope(() => {
      const all = Array.from({ length: 256 }, (_, i) => i);
      const counts = u8(all).popcount();
      assert.equal(counts.dtype, 'uint8');
      assert.deepEqual(counts.toArray(), all.map(popcount));
    });
  });
});

describe('hammingDistance', () => {
  function hamming(q: Uint8Array, g: Uint8Array, n: number, m: number, bytes: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let d = 0;
        for (let k = 0; k < bytes; k++) d += popcount((q[i * bytes + k] as number) ^ (g[j * bytes + k] as number));
        out.push(d);
      }
    }
    return out;
  }
  for (const bytes of [1, 8, 13, 32]) {
    test(`matches a hand loop on random ${bytes}-byte codes`, () => {
      scope(() => {
        const gen = new Generator(bytes);
        const q = randint(0, 256, [5, bytes], { dtype: 'uint8', generator: gen });
        const g = randint(0, 256, [7, bytes], { dtype: 'uint8', generator: gen });
        const d = F.hammingDistance(q, g);
        assert.equal(d.dtype, 'int32');
        assert.deepEqual(d.shape, [5, 7]);
        const expected = hamming(q.toTypedArray() as Uint8Array, g.toTypedArray() as Uint8Array, 5, 7, bytes);
        assert.deepEqual(d.toArray(), expected);
      });
    });
  }
  test('hand-computed: identical codes 0, complements 8 per byte', () => {
    scope(() => {
      const q = u8([0x00, 0xff, 0xff, 0x00], [2, 2]);
      const d = F.hammingDistance(q, q);
      assert.deepEqual(d.toArray(), [0, 16, 16, 0]);
      assert.deepEqual(F.hammingDistance(u8([1], [1, 1]), u8([3, 7, 1], [3, 1])).toArray(), [1, 2, 0]);
    });
  });
  test('non-contiguous codes (a transposed view) are read correctly', () => {
    scope(() => {
      const gen = new Generator(3);
      const codes = randint(0, 256, [6, 4], { dtype: 'uint8', generator: gen });
      const view = codes.T.contiguous().T; // same values, column-major strides
      assert.equal(view.isContiguous(), false);
      assert.deepEqual(F.hammingDistance(view, codes).toArray(), F.hammingDistance(codes, codes).toArray());
    });
  });
});
