// The metadata_props of an ONNX model file, read without decoding the graph: a walk over the ModelProto's
// top-level fields that skips everything but field 14 (metadata_props: StringStringEntryProto key=1,
// value=2). A 100 MB model costs a few microseconds this way instead of a full protobuf decode.
import { InputError } from '../util/errors.js';
import { excerpt } from '../util/excerpt.js';
import type { Preprocessing } from './onnx/index.js';

function varint(b: Uint8Array, at: number): [value: number, next: number] {
  let v = 0;
  let mul = 1;
  for (let i = at; i < b.length && i < at + 10; i++) {
    const byte = b[i] as number;
    v += (byte & 0x7f) * mul;
    mul *= 128;
    if (byte < 0x80) return [v, i + 1];
  }
  throw new RangeError('truncated varint');
}

/** Each length-delimited field of `b` as [field number, bytes]; other wire types are skipped. */
function* fields(b: Uint8Array): Generator<[number, Uint8Array]> {
  let at = 0;
  while (at < b.length) {
    const [tag, next] = varint(b, at);
    at = next;
    const wire = tag & 7;
    if (wire === 0) at = varint(b, at)[1];
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const [len, start] = varint(b, at);
      if (start + len > b.length) throw new RangeError('truncated field');
      yield [Math.floor(tag / 8), b.subarray(start, start + len)];
      at = start + len;
    } else throw new RangeError(`wire type ${wire}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function readOnnxMetadata(bytes: Uint8Array, name: string): Record<string, string> {
  const meta: Record<string, string> = {};
  try {
    for (const [field, body] of fields(bytes)) {
      if (field !== 14) continue;
      let key = '';
      let value = '';
      for (const [f, v] of fields(body)) {
        if (f === 1) key = utf8.decode(v);
        else if (f === 2) value = utf8.decode(v);
      }
      meta[key] = value;
    }
  } catch (e) {
    throw new InputError(`${name}: not an ONNX model (${(e as Error).message})`);
  }
  return meta;
}

/** What normsoftmax export wrote about the model: its preprocessing, arch and dim (InputError if absent). */
export interface OnnxModelInfo {
  arch: string | null;
  dim: number;
  preprocessing: Preprocessing;
  checkpointSha256: string | null;
}

export function onnxModelInfo(meta: Record<string, string>, name: string): OnnxModelInfo {
  let preprocessing: Preprocessing;
  try {
    preprocessing = JSON.parse(meta.preprocessing ?? '') as Preprocessing;
  } catch {
    throw new InputError(
      `${name}: no normsoftmax preprocessing in its metadata (export it with \`normsoftmax export\`)`,
    );
  }
  const dim = Number(meta.dim);
  if (!Number.isInteger(dim) || dim < 1 || !Array.isArray(preprocessing.mean) || !Array.isArray(preprocessing.std)) {
    throw new InputError(`${name}: malformed normsoftmax metadata (dim "${meta.dim}")`);
  }
  // A resize this version cannot do is refused rather than done another way (the vectors would not match).
  const { resizeMode, filter } = preprocessing as { resizeMode?: unknown; filter?: unknown };
  if (resizeMode !== undefined && resizeMode !== 'square' && resizeMode !== 'shorter') {
    throw new InputError(`${name}: preprocessing resizeMode must be square or shorter, got ${excerpt(resizeMode)}`);
  }
  if (filter !== undefined && filter !== 'bilinear' && filter !== 'bicubic') {
    throw new InputError(`${name}: preprocessing filter must be bilinear or bicubic, got ${excerpt(filter)}`);
  }
  return {
    arch: meta.arch ?? null,
    dim,
    preprocessing,
    checkpointSha256: meta.checkpoint_sha256 ?? null,
  };
}
