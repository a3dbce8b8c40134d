// Raw little-endian bytes to a tensor (native fromBuffer), for the file readers in src/io.
import { endianness } from 'node:os';
import { DTYPE_CODES, type DType, dtypeCode, ELEMENT_SIZE } from '../dtype.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { checkArray } from './check.js';

/**
 * A CPU tensor holding a copy of `bytes` (row-major, little-endian, in `dtype`). `bytes` may be a view
 * into a larger buffer at any alignment; its length must be exactly what dtype and shape need.
 */
export function tensorFromBytes(bytes: Uint8Array, dtype: DType, shape: readonly number[]): Tensor {
  const fn = 'tensorFromBytes()';
  if (endianness() !== 'LE') throw new Error('reading tensor files needs a little-endian host');
  checkArray(fn, 'bytes', bytes, Uint8Array);
  if (!(dtype in DTYPE_CODES)) dtypeCode(dtype); // throws, naming the dtypes there are
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new RangeError(`${fn}: shape must be non-negative integers, got [${String(shape)}]`);
  }
  const need = shape.reduce((a, b) => a * b, 1) * ELEMENT_SIZE[dtype];
  if (bytes.byteLength !== need) {
    throw new RangeError(`${fn}: ${bytes.byteLength} bytes given, ${dtype} [${shape.join(', ')}] needs ${need}`);
  }
  return new Tensor(native.fromBuffer(bytes, shape, dtypeCode(dtype), undefined));
}
