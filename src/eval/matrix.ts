// Checks and conversions shared by the searches: embeddings are 2-d float32, codes 2-d uint8.
import type { Tensor } from '../tensor/index.js';

/** x as a contiguous float32 [n, d] tensor (x itself when it already is one; else a new tensor). */
export function asFloatMatrix(x: Tensor, what: string): Tensor {
  if (x.rank !== 2) throw new RangeError(`${what}: expected a 2-d [n, d] tensor, got shape [${x.shape.join(', ')}]`);
  if (!['float32', 'float64', 'float16', 'bfloat16'].includes(x.dtype)) {
    throw new RangeError(`${what}: expected floating-point embeddings, got ${x.dtype}`);
  }
  const f = x.dtype === 'float32' && x.device === 'cpu' ? x : x.to({ dtype: 'float32', device: 'cpu' });
  return f.isContiguous() ? f : f.contiguous();
}

/** Codes as a contiguous uint8 [n, B] tensor. */
export function asCodeMatrix(x: Tensor, what: string): Tensor {
  if (x.rank !== 2 || x.dtype !== 'uint8') {
    throw new RangeError(`${what}: expected uint8 codes [n, bytes], got ${x.dtype} [${x.shape.join(', ')}]`);
  }
  return x.isContiguous() ? x : x.contiguous();
}

export function checkK(k: number, available: number, what: string): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${what}: k must be a positive integer, got ${k}`);
  if (k > available) throw new RangeError(`${what}: k = ${k} exceeds the ${available} gallery items available`);
}
