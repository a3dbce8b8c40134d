// The safetensors format: u64 little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}, then the raw
// little-endian data; offsets are relative to the end of the header.
import type { DType } from '../tensor/dtype.js';
import { ELEMENT_SIZE } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { FormatError } from '../util/errors.js';
import { writeFileAtomic } from './atomic.js';
import { setOwn } from './own-record.js';
import { readFileBytes } from './read-file.js';
import { firstNonBoolByte, numelOf, tensorFromBytes } from './tensor-bytes.js';

export interface Safetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

const DTYPES: Readonly<Record<string, DType>> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const CODES = Object.fromEntries(Object.entries(DTYPES).map(([code, dtype]) => [dtype, code])) as Record<DType, string>;
const METADATA_KEY = '__metadata__';
// The reference implementation's limit; a larger value means a corrupt or foreign file.
const MAX_HEADER_BYTES = 100_000_000;

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function parseEntry(name: string, info: unknown, dataLength: number, fail: (p: string) => FormatError): Entry {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw fail(`header entry '${name}' is not an object`);
  }
  const { dtype: code, shape, data_offsets: offsets } = info as Record<string, unknown>;
  const dtype = typeof code === 'string' ? DTYPES[code] : undefined;
  if (!dtype) {
    throw fail(`tensor '${name}' has dtype ${JSON.stringify(code)}; supported: ${Object.keys(DTYPES).join(', ')}`);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    throw fail(`tensor '${name}' has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw fail(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)}; expected [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw fail(`tensor '${name}' has data_offsets [${begin}, ${end}] with begin after end`);
  if (end > dataLength) {
    throw fail(
      `tensor '${name}' data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes); the file is truncated`,
    );
  }
  const need = numelOf(shape) * ELEMENT_SIZE[dtype];
  if (end - begin !== need) {
    throw fail(
      `tensor '${name}' (${code} [${shape.join(', ')}]) needs ${need} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape, begin, end };
}

function parseMetadata(value: unknown, fail: (p: string) => FormatError): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (value === undefined) return metadata;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(`${METADATA_KEY} is not an object of strings`);
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw fail(`${METADATA_KEY} value '${k}' is not a string`);
    setOwn(metadata, k, v);
  }
  return metadata;
}

function checkNoOverlap(entries: Entry[], fail: (p: string) => FormatError): void {
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as Entry;
    const cur = sorted[i] as Entry;
    if (cur.begin < prev.end) {
      throw fail(
        `tensors '${prev.name}' [${prev.begin}, ${prev.end}] and '${cur.name}' [${cur.begin}, ${cur.end}] overlap in data_offsets`,
      );
    }
  }
}

function parseHeader(bytes: Uint8Array, fail: (p: string) => FormatError): { header: object; dataStart: number } {
  if (bytes.length < 8) {
    throw fail(`truncated: ${bytes.length} bytes, but a safetensors file starts with an 8-byte header length`);
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(bytes.length - 8)) {
    throw fail(
      `header length ${length} runs past the end of the file (${bytes.length} bytes): truncated or not safetensors`,
    );
  }
  if (length > BigInt(MAX_HEADER_BYTES)) throw fail(`header length ${length} exceeds ${MAX_HEADER_BYTES} bytes`);
  const dataStart = 8 + Number(length);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw fail('header is not a JSON object');
  }
  return { header, dataStart };
}

/**
 * Reads safetensors bytes. Every range is checked (in bounds, non-overlapping, size = numel x dtype
 * size) before any tensor is made; tensors are copied once out of `bytes`. `source` names the data in errors.
 */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors data'): Safetensors {
  const fail = (problem: string) => new FormatError(source, problem);
  const { header, dataStart } = parseHeader(bytes, fail);
  const data = bytes.subarray(dataStart);
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name !== METADATA_KEY) entries.push(parseEntry(name, info, data.length, fail));
  }
  checkNoOverlap(entries, fail);
  const metadata = parseMetadata((header as Record<string, unknown>)[METADATA_KEY], fail);
  for (const e of entries) {
    const bad = e.dtype === 'bool' ? firstNonBoolByte(data.subarray(e.begin, e.end)) : -1;
    if (bad >= 0)
      throw fail(`BOOL tensor '${e.name}' holds byte ${data[e.begin + bad]} at element ${bad}; expected 0 or 1`);
  }
  const tensors: Record<string, Tensor> = {};
  try {
    for (const e of entries) setOwn(tensors, e.name, tensorFromBytes(data.subarray(e.begin, e.end), e.dtype, e.shape));
  } catch (err) {
    for (const t of Object.values(tensors)) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}

export function loadSafetensors(path: string): Safetensors {
  return parseSafetensors(readFileBytes(path), path);
}

/** The safetensors bytes of `tensors` (in the record's order; any device, copied to the host one at a time). */
export function serializeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  const layout: { tensor: Tensor; begin: number; end: number }[] = [];
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name === METADATA_KEY) throw new TypeError(`serializeSafetensors: '${METADATA_KEY}' cannot name a tensor`);
    const size = tensor.numel * ELEMENT_SIZE[tensor.dtype];
    setOwn(header, name, {
      dtype: CODES[tensor.dtype],
      shape: [...tensor.shape],
      data_offsets: [offset, offset + size],
    });
    layout.push({ tensor, begin: offset, end: offset + size });
    offset += size;
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`serializeSafetensors: metadata '${k}' must be a string`);
    }
    header[METADATA_KEY] = metadata;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so that the data starts 8-byte aligned, as the reference writer does.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  const dataStart = 8 + headerLength;
  for (const { tensor, begin } of layout) out.set(tensor.toBytes(), dataStart + begin);
  return out;
}

/** Writes a safetensors file atomically (a temp file renamed over `path`). */
export function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
