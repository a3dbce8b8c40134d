// NumPy's .npy format: "\x93NUMPY", version (major, minor), header length (u16 in v1, u32 in v2/v3),
// a Python dict literal {'descr', 'fortran_order', 'shape'} padded with spaces and '\n', then the data.
import type { DType } from '../tensor/dtype.js';
import { ELEMENT_SIZE } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { FormatError } from '../util/errors.js';
import { writeFileAtomic } from './atomic.js';
import { type PyLiteral, parsePyLiteral } from './py-literal.js';
import { readFileBytes } from './read-file.js';
import { firstNonBoolByte, numelOf, tensorFromBytes } from './tensor-bytes.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const PREAMBLE = 10; // magic, version and a u16 header length (v1)

// Type codes without their byte-order character.
const DTYPES: Readonly<Record<string, DType>> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  b1: 'bool',
};
const DESCRS: Partial<Record<DType, string>> = {
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  bool: '|b1',
};
const SUPPORTED = Object.values(DESCRS).join(', ');

interface Header {
  dtype: DType;
  fortranOrder: boolean;
  shape: number[];
  dataStart: number;
}

function parseDescr(descr: PyLiteral, fail: (p: string) => FormatError): DType {
  if (typeof descr !== 'string')
    throw fail(`structured dtype ${JSON.stringify(descr)} is not supported; supported: ${SUPPORTED}`);
  const order = descr[0] ?? '';
  const code = '<>|='.includes(order) ? descr.slice(1) : descr;
  const dtype = DTYPES[code];
  if (!dtype) throw fail(`dtype '${descr}' is not supported; supported: ${SUPPORTED}`);
  if (order === '>' && ELEMENT_SIZE[dtype] > 1) {
    throw fail(`dtype '${descr}' is big-endian, which is not supported; save it with arr.astype('<${code}')`);
  }
  return dtype;
}

function parseHeader(bytes: Uint8Array, fail: (p: string) => FormatError): Header {
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw fail('not a .npy file (it does not start with "\\x93NUMPY")');
  }
  if (bytes.length < PREAMBLE) throw fail(`truncated: ${bytes.length} bytes, shorter than the .npy preamble`);
  const major = bytes[6] as number;
  if (major < 1 || major > 3) throw fail(`.npy version ${major}.${bytes[7]} is not supported (expected 1, 2 or 3)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthSize) throw fail(`truncated: ${bytes.length} bytes, shorter than the .npy preamble`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthSize;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) {
    throw fail(`header length ${headerLength} runs past the end of the file (${bytes.length} bytes): truncated`);
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  let dict: PyLiteral;
  try {
    dict = parsePyLiteral(text.trimEnd());
  } catch (e) {
    throw fail(`header is not a Python dict literal: ${(e as Error).message}`);
  }
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) throw fail('header is not a dict');
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!Object.hasOwn(dict, key)) throw fail(`header has no '${key}'`);
  }
  const { descr, fortran_order: fortranOrder, shape } = dict;
  if (typeof fortranOrder !== 'boolean')
    throw fail(`header 'fortran_order' is ${JSON.stringify(fortranOrder)}, expected True or False`);
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && (s as number) >= 0)) {
    throw fail(`header 'shape' is ${JSON.stringify(shape)}, expected a tuple of non-negative integers`);
  }
  return { dtype: parseDescr(descr as PyLiteral, fail), fortranOrder, shape: shape as number[], dataStart };
}

/**
 * Reads .npy bytes (versions 1-3) into a CPU tensor. Fortran-order arrays come back row-major (the
 * data is read with the reversed shape, then transposed). Bytes after the data are ignored, as numpy does.
 */
export function parseNpy(bytes: Uint8Array, source = '.npy data'): Tensor {
  const fail = (problem: string) => new FormatError(source, problem);
  const { dtype, fortranOrder, shape, dataStart } = parseHeader(bytes, fail);
  const size = numelOf(shape) * ELEMENT_SIZE[dtype];
  const available = bytes.length - dataStart;
  if (available < size) {
    throw fail(
      `truncated: shape (${shape.join(', ')}) of ${DESCRS[dtype]} needs ${size} data bytes, the file has ${available}`,
    );
  }
  const data = bytes.subarray(dataStart, dataStart + size);
  if (dtype === 'bool') {
    const bad = firstNonBoolByte(data);
    if (bad >= 0) throw fail(`bool array holds byte ${data[bad]} at element ${bad}; expected 0 or 1`);
  }
  if (!fortranOrder || shape.length < 2) return tensorFromBytes(data, dtype, shape);
  const reversed = tensorFromBytes(data, dtype, [...shape].reverse());
  try {
    const dims = shape.map((_, i) => shape.length - 1 - i);
    const view = reversed.permute(...dims);
    try {
      return view.contiguous();
    } finally {
      view.dispose();
    }
  } finally {
    reversed.dispose();
  }
}

export function loadNpy(path: string): Tensor {
  return parseNpy(readFileBytes(path), path);
}

function headerText(descr: string, shape: readonly number[]): string {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  return `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
}

/** The .npy bytes of `t` (C order; version 1, or 2 when the header needs more than 64 KiB). */
export function serializeNpy(t: Tensor): Uint8Array {
  const descr = DESCRS[t.dtype];
  if (!descr) throw new TypeError(`.npy has no ${t.dtype} type; convert first, e.g. t.to('float32')`);
  const dict = new TextEncoder().encode(headerText(descr, t.shape));
  // numpy pads magic + version + length + header (ending in '\n') to a multiple of 64 bytes.
  let version = 1;
  let lengthSize = 2;
  let total = Math.ceil((8 + lengthSize + dict.length + 1) / 64) * 64;
  if (total - 8 - lengthSize > 0xffff) {
    version = 2;
    lengthSize = 4;
    total = Math.ceil((8 + lengthSize + dict.length + 1) / 64) * 64;
  }
  const data = t.toBytes();
  const out = new Uint8Array(total + data.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, total - 10, true);
  else view.setUint32(8, total - 12, true);
  out.set(dict, 8 + lengthSize);
  out.fill(0x20, 8 + lengthSize + dict.length, total - 1);
  out[total - 1] = 0x0a;
  out.set(data, total);
  return out;
}

/** Writes a .npy file atomically (a temp file renamed over `path`). */
export function saveNpy(path: string, t: Tensor): void {
  writeFileAtomic(path, serializeNpy(t));
}
