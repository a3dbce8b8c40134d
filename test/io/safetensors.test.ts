// safetensors: files written by tools/golden/io.py (through common.save_safetensors and by hand),
// byte-identical re-serialisation, round trips of every dtype, and malformed headers.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadSafetensors, parseSafetensors, saveSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { type DType, randn, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { assertFormatError, assertRecord, expectedFor, fixture } from './expected.js';

const tmp = mkdtempSync(join(tmpdir(), 'normsoftmax-safetensors-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A safetensors file from a header object and raw data, with an honest header length. */
function build(header: unknown, data: Uint8Array | number[] = []): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors fixtures from Python', () => {
  test('every core dtype with specials, 0-d and empty tensors, and metadata', () =>
    scope(() => {
      const { tensors, metadata } = loadSafetensors(fixture('dtypes.safetensors'));
      assertRecord(tensors, expectedFor('dtypes.safetensors'), 'dtypes.safetensors');
      assert.deepEqual(metadata, { format: 'pt', source: 'tools/golden/io.py' });
    }));

  test('int8 and int16, offsets in the opposite order of the header, no header padding', () =>
    scope(() => {
      const { tensors, metadata } = loadSafetensors(fixture('ints.safetensors'));
      assertRecord(tensors, expectedFor('ints.safetensors'), 'ints.safetensors');
      assert.deepEqual(metadata, {});
    }));

  test('re-serialising the Python file gives the same bytes', () =>
    scope(() => {
      const bytes = readFileSync(fixture('dtypes.safetensors'));
      const { tensors, metadata } = parseSafetensors(bytes);
      assert.deepEqual(Buffer.from(serializeSafetensors(tensors, metadata)), bytes);
    }));
});

describe('safetensors round trip', () => {
  const dtypes: DType[] = [
    'float32',
    'float64',
    'float16',
    'bfloat16',
    'int64',
    'int32',
    'int16',
    'int8',
    'uint8',
    'bool',
  ];

  test('every dtype keeps its bytes, shape and name; the data starts 8-byte aligned', () =>
    scope(() => {
      const source: Record<string, Tensor> = {};
      for (const dtype of dtypes) {
        const values = dtype === 'bool' ? [1, 0, 0, 1, 1, 0] : [-3.5, 0, 1, 2.25, 100, -7];
        source[dtype] = tensor(values, { dtype: dtype === 'bool' ? 'uint8' : 'float64', shape: [2, 3] }).to(dtype);
      }
      source.scalar = tensor([7], { shape: [] });
      source.empty = tensor([], { shape: [0, 5] });
      Object.defineProperty(source, '__proto__', { value: tensor([1, 2]), enumerable: true });
      const bytes = serializeSafetensors(source, { note: 'round trip' });
      const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      assert.equal(headerLength % 8, 0);
      const { tensors, metadata } = parseSafetensors(bytes);
      assert.deepEqual(Object.keys(tensors), Object.keys(source));
      for (const [name, t] of Object.entries(source)) {
        const back = tensors[name] as Tensor;
        assert.equal(back.dtype, t.dtype, name);
        assert.deepEqual(back.shape, t.shape, name);
        assert.deepEqual(back.toBytes(), t.toBytes(), name);
      }
      assert.deepEqual(metadata, { note: 'round trip' });
      assert.equal(Object.getPrototypeOf(tensors), Object.prototype);
    }));

  test('a non-contiguous tensor is written as its row-major values', () =>
    scope(() => {
      const x = randn([3, 4]);
      const { tensors } = parseSafetensors(serializeSafetensors({ t: x.T }));
      assert.deepEqual((tensors.t as Tensor).toArray(), x.T.contiguous().toArray());
    }));

  test('saveSafetensors replaces the file atomically and leaves no temporary file', () =>
    scope(() => {
      const path = join(tmp, 'w.safetensors');
      writeFileSync(path, 'old contents');
      saveSafetensors(path, { w: tensor([1, 2, 3]) }, { epoch: '4' });
      const { tensors, metadata } = loadSafetensors(path);
      assert.deepEqual((tensors.w as Tensor).toArray(), [1, 2, 3]);
      assert.deepEqual(metadata, { epoch: '4' });
      assert.deepEqual(readdirSync(tmp), ['w.safetensors']);
    }));

  test('serializing rejects a tensor named __metadata__ and non-string metadata', () =>
    scope(() => {
      assert.throws(() => serializeSafetensors({ __metadata__: tensor([1]) }), /__metadata__/);
      assert.throws(() => serializeSafetensors({}, { n: 3 as unknown as string }), /metadata 'n' must be a string/);
    }));
});

describe('malformed safetensors', () => {
  const f32 = (n: number) => new Uint8Array(4 * n);

  test('a file cut short in the data names the tensor and says truncated', () => {
    const bytes = readFileSync(fixture('dtypes.safetensors'));
    const path = join(tmp, 'cut.safetensors');
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    assertFormatError(
      () => loadSafetensors(path),
      path,
      "tensor 'scalar'",
      'run past the end of the data',
      'truncated',
    );
  });

  test('fewer than 8 bytes', () => {
    assertFormatError(() => parseSafetensors(new Uint8Array(5), 'x.safetensors'), 'x.safetensors: truncated: 5 bytes');
  });

  test('a header length beyond the end of the file', () => {
    const bytes = build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1));
    new DataView(bytes.buffer).setBigUint64(0, 1n << 40n, true);
    assertFormatError(
      () => parseSafetensors(bytes, 'big.safetensors'),
      'header length 1099511627776 runs past the end',
    );
  });

  test('header that is not JSON, not UTF-8, or not an object', () => {
    assertFormatError(
      () => parseSafetensors(build('{"a": {'), 'bad.safetensors'),
      'bad.safetensors: header is not valid JSON',
    );
    assertFormatError(() => parseSafetensors(build('[1, 2]')), 'header is not a JSON object');
    const latin = build('{"\u00e9":1}');
    latin[10] = 0xe9; // a lone latin-1 byte where UTF-8 needs two
    assertFormatError(() => parseSafetensors(latin), 'header is not valid UTF-8');
  });

  test('overlapping data_offsets name both tensors', () => {
    const header = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    assertFormatError(() => parseSafetensors(build(header, f32(3))), "'a' [0, 8]", "'b' [4, 12]", 'overlap');
  });

  test('a range whose size disagrees with shape x dtype', () => {
    const header = { a: { dtype: 'F64', shape: [2], data_offsets: [0, 12] } };
    assertFormatError(() => parseSafetensors(build(header, f32(3))), "tensor 'a' (F64 [2]) needs 16 bytes", 'hold 12');
  });

  test('bad dtype, shape, offsets, entry and metadata', () => {
    const one = (entry: unknown) => build({ a: entry }, f32(1));
    assertFormatError(
      () => parseSafetensors(one({ dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] })),
      '"F8_E4M3"',
      'supported: F32',
    );
    assertFormatError(() => parseSafetensors(one({ dtype: 'F32', shape: [-1], data_offsets: [0, 4] })), 'shape [-1]');
    assertFormatError(
      () => parseSafetensors(one({ dtype: 'F32', shape: [1], data_offsets: [4, 0] })),
      'begin after end',
    );
    assertFormatError(() => parseSafetensors(one({ dtype: 'F32', shape: [1], data_offsets: [0] })), 'data_offsets [0]');
    assertFormatError(() => parseSafetensors(one(7)), "header entry 'a' is not an object");
    assertFormatError(
      () => parseSafetensors(build({ __metadata__: { n: 1 } })),
      "__metadata__ value 'n' is not a string",
    );
  });

  test('a BOOL tensor holding a byte other than 0 or 1', () => {
    const bytes = build({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, [1, 0, 2]);
    assertFormatError(() => parseSafetensors(bytes), "BOOL tensor 'm' holds byte 2 at element 2");
  });

  test('a missing file', () => {
    const path = join(tmp, 'missing.safetensors');
    assertFormatError(() => loadSafetensors(path), path, 'cannot open: no such file');
  });
});
