// Turning raw little-endian bytes into tensors, shared by the safetensors, .npy and .pth readers.
import { endianness } from 'node:os';
import { type DType, dtypeCode } from '../tensor/dtype.js';
import { native } from '../tensor/native.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * A CPU tensor holding a copy of `bytes` (row-major, little-endian, in `dtype`). `bytes` may be a view
 * into a larger file buffer at any alignment: this one memcpy is the only copy the loaders make.
 */
export function tensorFromBytes(bytes: Uint8Array, dtype: DType, shape: readonly number[]): Tensor {
  if (endianness() !== 'LE') throw new Error('reading tensor files needs a little-endian host');
  return new Tensor(native.fromBuffer(bytes, shape, dtypeCode(dtype), undefined));
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = step;
    step *= shape[d] as number;
  }
  return strides;
}

/** One past the largest element index a strided view touches (its offset when it is empty). */
export function viewExtent(shape: readonly number[], strides: readonly number[], offset: number): number {
  if (numelOf(shape) === 0) return offset;
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += ((shape[d] as number) - 1) * (strides[d] as number);
  return last + 1;
}

/**
 * The bytes of a strided view of `storage` laid out row-major: copies runs along the last dimension
 * when it is unit-strided, else element by element. Callers check bounds with viewExtent first.
 */
export function gatherStrided(
  storage: Uint8Array,
  elementSize: number,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Uint8Array {
  const numel = numelOf(shape);
  const out = new Uint8Array(numel * elementSize);
  if (numel === 0) return out;
  const rank = shape.length;
  const inner = rank === 0 ? 1 : (shape[rank - 1] as number);
  const innerStride = rank === 0 ? 1 : (strides[rank - 1] as number);
  const index = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let src = offset;
  let dst = 0;
  for (let row = 0; row < numel / inner; row++) {
    if (innerStride === 1) {
      out.set(storage.subarray(src * elementSize, (src + inner) * elementSize), dst);
      dst += inner * elementSize;
    } else {
      for (let i = 0; i < inner; i++) {
        const from = (src + i * innerStride) * elementSize;
        for (let b = 0; b < elementSize; b++) out[dst++] = storage[from + b] as number;
      }
    }
    // Advance the odometer over the leading dimensions.
    for (let d = rank - 2; d >= 0; d--) {
      const next = (index[d] as number) + 1;
      src += strides[d] as number;
      if (next < (shape[d] as number)) {
        index[d] = next;
        break;
      }
      src -= next * (strides[d] as number);
      index[d] = 0;
    }
  }
  return out;
}

/** The index of the first byte that is neither 0 nor 1, or -1: bool tensors must hold only those. */
export function firstNonBoolByte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) > 1) return i;
  return -1;
}
