// .npy: numpy's own files for every dtype (C and Fortran order, header versions 1-3), byte-identical
// re-serialisation, round trips, and rejected or malformed files.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadNpy, parseNpy, saveNpy, serializeNpy } from '../../src/io/npy.js';
import { parsePyLiteral } from '../../src/io/py-literal.js';
import { type DType, randn, scope, tensor } from '../../src/tensor/index.js';
import { assertExact, assertFormatError, expectedFor, fixture } from './expected.js';

const tmp = mkdtempSync(join(tmpdir(), 'normsoftmax-npy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const expected = expectedFor('npy');
const C_ORDER_V1 = ['f4', 'f8', 'f2', 'i8', 'i4', 'i2', 'i1', 'u1', 'b1', 'scalar', 'empty'];

/** A .npy file with the given header text and data (version 1). */
function npy(header: string, data: number[] = [], version = 1): Uint8Array {
  const text = new TextEncoder().encode(header);
  const lengthSize = version === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lengthSize + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, 8 + lengthSize);
  out.set(data, 8 + lengthSize + text.length);
  return out;
}

describe('.npy files from numpy', () => {
  for (const name of Object.keys(expected)) {
    test(`${name}.npy`, () =>
      scope(() => {
        const t = loadNpy(fixture(`${name}.npy`));
        assertExact(t, expected[name] as (typeof expected)[string], name);
        assert.ok(t.isContiguous());
      }));
  }

  test('re-serialising a C-order array gives numpy’s bytes exactly', () =>
    scope(() => {
      for (const name of C_ORDER_V1) {
        const bytes = readFileSync(fixture(`${name}.npy`));
        assert.deepEqual(Buffer.from(serializeNpy(parseNpy(bytes))), bytes, name);
      }
    }));
});

describe('.npy round trip', () => {
  test('every dtype keeps its bytes and shape; the header is padded to 64 bytes', () =>
    scope(() => {
      const dtypes: DType[] = ['float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
      for (const dtype of dtypes) {
        const t = tensor([1, 0, 3, 0, 1, 1], { dtype: 'float64', shape: [3, 1, 2] }).to(dtype);
        const bytes = serializeNpy(t);
        assert.equal((bytes.length - t.toBytes().length) % 64, 0, dtype);
        const back = parseNpy(bytes);
        assert.equal(back.dtype, dtype);
        assert.deepEqual(back.shape, [3, 1, 2]);
        assert.deepEqual(back.toBytes(), t.toBytes(), dtype);
      }
    }));

  test('an N x D float32 embedding matrix and its int64 labels, through saveNpy', () =>
    scope(() => {
      const embeddings = randn([5, 3]);
      const labels = tensor([0, 4, 4, 2, 9], { dtype: 'int64' });
      saveNpy(join(tmp, 'emb.npy'), embeddings);
      saveNpy(join(tmp, 'labels.npy'), labels);
      assert.deepEqual(loadNpy(join(tmp, 'emb.npy')).toArray(), embeddings.toArray());
      assert.deepEqual(loadNpy(join(tmp, 'labels.npy')).toArray(), [0, 4, 4, 2, 9]);
      assert.deepEqual(readdirSync(tmp).sort(), ['emb.npy', 'labels.npy']);
    }));

  test('a non-contiguous tensor is written in C order', () =>
    scope(() => {
      const x = randn([2, 3]);
      assert.deepEqual(parseNpy(serializeNpy(x.T)).toArray(), x.T.contiguous().toArray());
    }));

  test('bfloat16 has no .npy type', () =>
    scope(() => {
      assert.throws(() => serializeNpy(tensor([1]).to('bfloat16')), /\.npy has no bfloat16 type/);
    }));

  test('a header longer than 64 KiB switches to version 2', () =>
    scope(() => {
      const bytes = serializeNpy(tensor(new Float32Array(0), { shape: [0, ...new Array(30000).fill(1)] }));
      assert.equal(bytes[6], 2);
      assert.equal(parseNpy(bytes).shape.length, 30001);
    }));
});

describe('rejected and malformed .npy', () => {
  test('big-endian data says how to convert it', () => {
    const path = fixture('bigendian.npy');
    assertFormatError(() => loadNpy(path), path, "dtype '>f4' is big-endian", "astype('<f4')");
  });

  test('object and unsigned 32-bit arrays list what is supported', () => {
    assertFormatError(() => loadNpy(fixture('object.npy')), "dtype '|O' is not supported", 'supported: <f2, <f4');
    assertFormatError(() => loadNpy(fixture('u4.npy')), "dtype '<u4' is not supported");
  });

  test('bad magic, unknown version, truncated preamble', () => {
    assertFormatError(() => parseNpy(new TextEncoder().encode('hello world'), 'a.npy'), 'a.npy: not a .npy file');
    assertFormatError(() => parseNpy(npy("{'descr': '<f4'}", [], 4)), '.npy version 4.0 is not supported');
    assertFormatError(() => parseNpy(npy('').subarray(0, 9)), 'truncated: 9 bytes');
  });

  test('a header length beyond the end of the file', () => {
    const bytes = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }");
    new DataView(bytes.buffer).setUint16(8, 60000, true);
    assertFormatError(() => parseNpy(bytes), 'header length 60000 runs past the end of the file');
  });

  test('data shorter than the shape needs', () => {
    const bytes = readFileSync(fixture('f4.npy'));
    const path = join(tmp, 'short.npy');
    writeFileSync(path, bytes.subarray(0, bytes.length - 1));
    assertFormatError(() => loadNpy(path), path, 'truncated: shape (3, 4) of <f4 needs 48 data bytes, the file has 47');
  });

  test('headers that are not the expected dict', () => {
    const header = (h: string) => () => parseNpy(npy(h));
    assertFormatError(header("{'descr': '<f4', 'shape': (2,"), 'header is not a Python dict literal');
    assertFormatError(header("{'descr': '<f4', 'shape': (2,)}"), "header has no 'fortran_order'");
    assertFormatError(header("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}"), "'fortran_order' is 0");
    assertFormatError(header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}"), "'shape' is [-2]");
    assertFormatError(header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}"), 'structured dtype');
    assertFormatError(header('(1, 2)'), 'header is not a dict');
  });

  test('a bool array holding other bytes', () => {
    const bytes = npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", [1, 5]);
    assertFormatError(() => parseNpy(bytes), 'bool array holds byte 5 at element 1');
  });
});

describe('Python literal parser', () => {
  test('dicts, tuples, lists, strings, ints, booleans and None', () => {
    assert.deepEqual(parsePyLiteral("{'a': (1, -2,), \"b\": [True, False, None], 'c': (), 'd': (7,), 'e': 5L}"), {
      a: [1, -2],
      b: [true, false, null],
      c: [],
      d: [7],
      e: 5,
    });
  });

  test('errors say where', () => {
    assert.throws(() => parsePyLiteral("{'a': 1 'b': 2}"), /expected ',' or '}' at character 8/);
    assert.throws(() => parsePyLiteral('(1, 2) x'), /unexpected text after the value/);
    assert.throws(() => parsePyLiteral("{'a': 99999999999999999999}"), /too large/);
  });
});
