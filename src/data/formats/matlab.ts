// A reader for MATLAB level-5 MAT-files (what `save -v6` / `-v7` write, and scipy.io.savemat), enough for
// annotation files: numeric, logical, char, cell and struct arrays, with or without zlib compression.
// Sparse and object arrays are refused with a clear message; v7.3 files are HDF5 and are refused too.
import { inflateSync } from 'node:zlib';
import { InputError } from '../../util/errors.js';

/** A malformed MAT-file; callers add the file's name (the reader works on bytes). */
export class MatFormatError extends InputError {
  override name = 'MatFormatError';
}

export type MatNumericClass =
  | 'double'
  | 'single'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64';

/** Numeric or logical array; `data` holds the real part in column-major order (64-bit integers become numbers). */
export interface MatNumeric {
  kind: 'numeric';
  class: MatNumericClass;
  dims: number[];
  logical: boolean;
  data: Float64Array;
  imag?: Float64Array;
}

/** Char array: one string per row (a 1xN array is one string). */
export interface MatChar {
  kind: 'char';
  dims: number[];
  rows: string[];
}

export interface MatCell {
  kind: 'cell';
  dims: number[];
  /** Column-major. */
  items: MatValue[];
}

export interface MatStruct {
  kind: 'struct';
  dims: number[];
  fields: string[];
  /** Column-major; each element maps every field name to its value. */
  items: Map<string, MatValue>[];
}

export type MatValue = MatNumeric | MatChar | MatCell | MatStruct;

// Data types of data elements (the "mi" types).
const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
} as const;

// Array classes (the "mx" classes) found in the array-flags subelement.
const MX_CELL = 1;
const MX_STRUCT = 2;
const MX_OBJECT = 3;
const MX_CHAR = 4;
const MX_SPARSE = 5;
const MX_NUMERIC: Record<number, MatNumericClass> = {
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};

interface Element {
  type: number;
  bytes: Uint8Array;
}

/** Reads the data elements of a byte range one after another. */
class ElementReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly le: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  next(): Element {
    if (this.pos + 8 > this.bytes.length) throw new MatFormatError(`truncated data element tag at byte ${this.pos}`);
    const first = this.view.getUint32(this.pos, this.le);
    if (first >>> 16 !== 0) {
      // Small data element: type and size share the first word, up to 4 bytes of data follow in the second.
      const type = first & 0xffff;
      const size = first >>> 16;
      if (size > 4) throw new MatFormatError(`small data element of ${size} bytes at byte ${this.pos}`);
      const bytes = this.bytes.subarray(this.pos + 4, this.pos + 4 + size);
      this.pos += 8;
      return { type, bytes };
    }
    const size = this.view.getUint32(this.pos + 4, this.le);
    const start = this.pos + 8;
    if (start + size > this.bytes.length) {
      throw new MatFormatError(
        `data element at byte ${this.pos} claims ${size} bytes, only ${this.bytes.length - start} left`,
      );
    }
    const bytes = this.bytes.subarray(start, start + size);
    // Compressed elements are not padded; everything else is padded to 8 bytes.
    this.pos = first === MI.COMPRESSED ? start + size : start + Math.ceil(size / 8) * 8;
    return { type: first, bytes };
  }

  expect(type: number, what: string): Element {
    const e = this.next();
    if (e.type !== type) throw new MatFormatError(`${what}: expected data type ${type}, found ${e.type}`);
    return e;
  }
}

/** Parses a level-5 MAT-file and returns its variables by name, in file order. */
export function readMat(file: Uint8Array): Map<string, MatValue> {
  if (file.length < 128) throw new MatFormatError('file is shorter than the 128-byte MAT-file header');
  const text = new TextDecoder('latin1').decode(file.subarray(0, 116));
  if (text.startsWith('MATLAB 7.3')) {
    throw new MatFormatError('MATLAB 7.3 files are HDF5, not supported; save it again with -v7');
  }
  const marker = String.fromCharCode(file[126]!, file[127]!);
  if (!text.startsWith('MATLAB') || (marker !== 'IM' && marker !== 'MI')) {
    throw new MatFormatError('not a MATLAB level-5 MAT-file (no "MATLAB 5.0 MAT-file" header)');
  }
  const le = marker === 'IM';
  const variables = new Map<string, MatValue>();
  readVariables(file.subarray(128), le, variables);
  return variables;
}

function readVariables(bytes: Uint8Array, le: boolean, into: Map<string, MatValue>): void {
  const reader = new ElementReader(bytes, le);
  while (!reader.done) {
    // Fewer than 8 trailing bytes can only be padding.
    if (reader.remaining < 8) break;
    const e = reader.next();
    if (e.type === MI.COMPRESSED) {
      let inflated: Uint8Array;
      try {
        inflated = inflateSync(e.bytes);
      } catch (err) {
        throw new MatFormatError(`compressed element does not inflate: ${(err as Error).message}`);
      }
      readVariables(inflated, le, into);
    } else if (e.type === MI.MATRIX) {
      const { name, value } = readMatrix(e.bytes, le);
      into.set(name, value);
    } else if (e.type !== 0 || e.bytes.length !== 0) {
      throw new MatFormatError(`unexpected top-level data element of type ${e.type}`);
    }
  }
}

function readMatrix(bytes: Uint8Array, le: boolean): { name: string; value: MatValue } {
  // An empty matrix inside a cell or struct is written as a bare tag with no subelements.
  if (bytes.length === 0) {
    return {
      name: '',
      value: { kind: 'numeric', class: 'double', dims: [0, 0], logical: false, data: new Float64Array() },
    };
  }
  const reader = new ElementReader(bytes, le);
  const flags = toNumbers(reader.expect(MI.UINT32, 'array flags'), le);
  const flagWord = flags[0] ?? 0;
  const mxClass = flagWord & 0xff;
  const complex = (flagWord & 0x800) !== 0;
  const logical = (flagWord & 0x200) !== 0;
  const dims = Array.from(toNumbers(reader.expect(MI.INT32, 'dimensions'), le));
  const nameElement = reader.next();
  const name = new TextDecoder('latin1').decode(nameElement.bytes);
  const count = dims.reduce((a, b) => a * b, 1);

  if (mxClass === MX_CELL) {
    const items: MatValue[] = [];
    for (let i = 0; i < count; i++) items.push(readMatrix(reader.expect(MI.MATRIX, 'cell element').bytes, le).value);
    return { name, value: { kind: 'cell', dims, items } };
  }
  if (mxClass === MX_STRUCT) return { name, value: readStruct(reader, dims, count, le) };
  if (mxClass === MX_CHAR) {
    const codes = readCharCodes(reader.next(), le);
    return { name, value: { kind: 'char', dims, rows: charRows(codes, dims) } };
  }
  if (mxClass === MX_SPARSE) throw new MatFormatError(`variable '${name}' is a sparse array, not supported`);
  if (mxClass === MX_OBJECT) throw new MatFormatError(`variable '${name}' is a MATLAB object, not supported`);
  const numericClass = MX_NUMERIC[mxClass];
  if (numericClass === undefined) throw new MatFormatError(`variable '${name}' has unknown array class ${mxClass}`);
  const data = toNumbers(reader.next(), le);
  if (data.length !== count) {
    throw new MatFormatError(`variable '${name}' has ${data.length} values for dimensions ${dims.join('x')}`);
  }
  const value: MatNumeric = { kind: 'numeric', class: numericClass, dims, logical, data };
  if (complex) value.imag = toNumbers(reader.next(), le);
  return { name, value };
}

function readStruct(reader: ElementReader, dims: number[], count: number, le: boolean): MatStruct {
  const nameLength = toNumbers(reader.expect(MI.INT32, 'field name length'), le)[0] ?? 0;
  const namesBytes = reader.expect(MI.INT8, 'field names').bytes;
  const fields: string[] = [];
  if (nameLength > 0) {
    for (let off = 0; off + nameLength <= namesBytes.length; off += nameLength) {
      const raw = namesBytes.subarray(off, off + nameLength);
      const end = raw.indexOf(0);
      fields.push(new TextDecoder('latin1').decode(end < 0 ? raw : raw.subarray(0, end)));
    }
  }
  const items: Map<string, MatValue>[] = [];
  for (let i = 0; i < count; i++) {
    const item = new Map<string, MatValue>();
    for (const field of fields)
      item.set(field, readMatrix(reader.expect(MI.MATRIX, `field '${field}'`).bytes, le).value);
    items.push(item);
  }
  return { kind: 'struct', dims, fields, items };
}

function readCharCodes(e: Element, le: boolean): number[] {
  if (e.type === MI.UTF8 || e.type === MI.UINT8 || e.type === MI.INT8) {
    return Array.from(new TextDecoder('utf-8').decode(e.bytes), (c) => c.codePointAt(0)!);
  }
  if (e.type === MI.UTF16 || e.type === MI.UINT16) return Array.from(toNumbers(e, le));
  if (e.type === MI.UTF32 || e.type === MI.UINT32 || e.type === MI.INT32) return Array.from(toNumbers(e, le));
  throw new MatFormatError(`char data of unexpected type ${e.type}`);
}

/** Column-major char codes to one string per row (higher dimensions are flattened into columns). */
function charRows(codes: number[], dims: number[]): string[] {
  const rows = dims[0] ?? 0;
  if (rows === 0) return [];
  const cols = codes.length / rows;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    let s = '';
    for (let c = 0; c < cols; c++) s += String.fromCodePoint(codes[c * rows + r]!);
    out.push(s);
  }
  return out;
}

const BYTES: Record<number, number> = {
  [MI.INT8]: 1,
  [MI.UINT8]: 1,
  [MI.INT16]: 2,
  [MI.UINT16]: 2,
  [MI.INT32]: 4,
  [MI.UINT32]: 4,
  [MI.SINGLE]: 4,
  [MI.DOUBLE]: 8,
  [MI.INT64]: 8,
  [MI.UINT64]: 8,
  [MI.UTF8]: 1,
  [MI.UTF16]: 2,
  [MI.UTF32]: 4,
};

/** Decodes a numeric data element of any storage type into doubles. */
function toNumbers(e: Element, le: boolean): Float64Array {
  const width = BYTES[e.type];
  if (width === undefined) throw new MatFormatError(`numeric data of unexpected type ${e.type}`);
  if (e.bytes.length % width !== 0) throw new MatFormatError(`${e.bytes.length} bytes is not a whole number of values`);
  const n = e.bytes.length / width;
  const v = new DataView(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
  const out = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += width) {
    switch (e.type) {
      case MI.INT8:
        out[i] = v.getInt8(o);
        break;
      case MI.UINT8:
      case MI.UTF8:
        out[i] = v.getUint8(o);
        break;
      case MI.INT16:
        out[i] = v.getInt16(o, le);
        break;
      case MI.UINT16:
      case MI.UTF16:
        out[i] = v.getUint16(o, le);
        break;
      case MI.INT32:
        out[i] = v.getInt32(o, le);
        break;
      case MI.UINT32:
      case MI.UTF32:
        out[i] = v.getUint32(o, le);
        break;
      case MI.SINGLE:
        out[i] = v.getFloat32(o, le);
        break;
      case MI.DOUBLE:
        out[i] = v.getFloat64(o, le);
        break;
      case MI.INT64:
        out[i] = Number(v.getBigInt64(o, le));
        break;
      default:
        out[i] = Number(v.getBigUint64(o, le));
    }
  }
  return out;
}

/** The text of a char value that holds one string (a 1xN row or an Nx1 column); throws otherwise. */
export function matString(value: MatValue | undefined, what: string): string {
  if (value?.kind !== 'char') throw new MatFormatError(`${what}: expected a char array, found ${describe(value)}`);
  if (value.rows.length === 0) return '';
  if (value.rows.length === 1) return value.rows[0]!;
  // An Nx1 char column is also one string.
  if (value.dims[1] === 1) return value.rows.join('');
  throw new MatFormatError(`${what}: expected one string, found ${value.rows.length} rows`);
}

/** The number held by a 1x1 numeric value; throws otherwise. */
export function matScalar(value: MatValue | undefined, what: string): number {
  if (value?.kind !== 'numeric' || value.data.length !== 1) {
    throw new MatFormatError(`${what}: expected a number, found ${describe(value)}`);
  }
  return value.data[0]!;
}

function describe(value: MatValue | undefined): string {
  if (value === undefined) return 'nothing';
  return `a ${value.dims.join('x')} ${value.kind === 'numeric' ? value.class : value.kind} array`;
}
