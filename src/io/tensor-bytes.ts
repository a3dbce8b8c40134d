// Turning raw little-endian bytes into tensors, shared by the safetensors, .npy and .pth readers.
import { type DType, ELEMENT_SIZE } from '../tensor/dtype.js';
import { tensorFromBytes as bytesToTensor } from '../tensor/kernels/bytes.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * A CPU tensor holding a copy of `bytes` (row-major, little-endian, in `dtype`). `bytes` may be a view
 * into a larger file buffer at any alignment: this one memcpy is the only copy the loaders make.
 */
export function tensorFromBytes(bytes: Uint8Array, dtype: DType, shape: readonly number[]): Tensor {
  return bytesToTensor(bytes, dtype, shape);
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
 * The dimension order (outermost first) in which a strided view is a dense row-major block, or null
 * when it has gaps, overlaps or broadcast (stride-0) dimensions. Size-1 dimensions may have any stride.
 */
function densePermutation(shape: readonly number[], strides: readonly number[]): number[] | null {
  const order = shape.map((_, d) => d).sort((a, b) => (strides[b] as number) - (strides[a] as number) || a - b);
  const expected = contiguousStrides(order.map((d) => shape[d] as number));
  return order.every((d, i) => shape[d] === 1 || strides[d] === expected[i]) ? order : null;
}

/**
 * Copies a strided view of `storage` into a new row-major tensor. Dense views (contiguous, transposed,
 * permuted) are one memcpy plus, when permuted, libtorch's own contiguous(); anything else (step slices,
 * broadcast dimensions) is gathered here. Callers check bounds with viewExtent first.
 */
export function tensorFromStrided(
  storage: Uint8Array,
  dtype: DType,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Tensor {
  const size = ELEMENT_SIZE[dtype];
  const order = densePermutation(shape, strides);
  if (!order) return tensorFromBytes(gatherStrided(storage, size, shape, strides, offset), dtype, shape);
  const block = storage.subarray(offset * size, (offset + numelOf(shape)) * size);
  if (order.every((d, i) => d === i)) return tensorFromBytes(block, dtype, shape);
  const dense = tensorFromBytes(
    block,
    dtype,
    order.map((d) => shape[d] as number),
  );
  const inverse = new Array<number>(order.length);
  order.forEach((d, i) => {
    inverse[d] = i;
  });
  const view = dense.permute(...inverse);
  try {
    return view.contiguous();
  } finally {
    view.dispose();
    dense.dispose();
  }
}

// The widest word (4, 2 or 1 bytes) that divides the element size and the buffer's alignment.
function wordWidth(bytes: Uint8Array, elementSize: number): 1 | 2 | 4 {
  for (const width of [4, 2] as const) {
    if (elementSize % width === 0 && bytes.byteOffset % width === 0 && bytes.byteLength % width === 0) return width;
  }
  return 1;
}

function words(bytes: Uint8Array, width: 1 | 2 | 4): Uint8Array | Uint16Array | Uint32Array {
  if (width === 1) return bytes;
  const Ctor = width === 2 ? Uint16Array : Uint32Array;
  return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / width);
}

/** The bytes of a strided view of `storage` laid out row-major. */
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
  // Copy in words as wide as alignment allows: far fewer steps than byte by byte.
  const width = wordWidth(storage, elementSize);
  const src = words(storage, width);
  const dst = words(out, width);
  const per = elementSize / width;
  const rank = shape.length;
  const inner = rank === 0 ? 1 : (shape[rank - 1] as number);
  const innerStride = (rank === 0 ? 1 : (strides[rank - 1] as number)) * per;
  const index = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let from = offset * per;
  let to = 0;
  for (let row = 0; row < numel / inner; row++) {
    for (let i = 0, at = from; i < inner; i++, at += innerStride) {
      for (let w = 0; w < per; w++) dst[to++] = src[at + w] as number;
    }
    // Advance the odometer over the leading dimensions.
    for (let d = rank - 2; d >= 0; d--) {
      const next = (index[d] as number) + 1;
      from += (strides[d] as number) * per;
      if (next < (shape[d] as number)) {
        index[d] = next;
        break;
      }
      from -= next * (strides[d] as number) * per;
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
