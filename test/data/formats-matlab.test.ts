import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { MatFormatError, type MatValue, matScalar, matString, readMat } from '../../src/data/formats/matlab.js';
import { EXPECTED, FIXTURES } from './formats-helpers.js';

const plain = (v: MatValue | undefined) => {
  assert.ok(v?.kind === 'numeric');
  return { dims: v.dims, data: Array.from(v.data), class: v.class, ...(v.logical ? { logical: true } : {}) };
};

for (const file of ['types-compressed.mat', 'types-plain.mat']) {
  test(`MAT v5 ${file} (written by scipy.io.savemat): numeric classes, logical, char, cell, struct`, () => {
    const vars = readMat(readFileSync(join(FIXTURES, 'matlab', file)));
    const e = EXPECTED.matlab;
    for (const name of ['m_double', 'm_single', 'm_int8', 'm_uint16', 'm_int64', 'm_logical']) {
      assert.deepEqual(plain(vars.get(name)), e[name], name);
    }
    assert.equal(matString(vars.get('m_text'), 'm_text'), e.m_text);
    const rows = vars.get('m_rows');
    assert.ok(rows?.kind === 'char');
    assert.deepEqual(rows.rows, e.m_rows);
    const cell = vars.get('m_cell');
    assert.ok(cell?.kind === 'cell');
    assert.deepEqual(cell.dims, [1, 3]);
    assert.equal(matString(cell.items[0], 'a'), 'a');
    assert.equal(matScalar(cell.items[1], 'seven'), 7);
    assert.equal(matString(cell.items[2], 'unicode'), 'Zoë ü');
    const st = vars.get('m_struct');
    assert.ok(st?.kind === 'struct');
    assert.deepEqual(st.fields, ['name', 'value']);
    assert.equal(matString(st.items[1]?.get('name'), 'name'), 'second');
    assert.deepEqual(plain(st.items[0]?.get('value')), { dims: [1, 2], data: [1.5, -2], class: 'double' });
    assert.deepEqual(plain(st.items[1]?.get('value')).dims, [0, 0]);
    assert.throws(() => matScalar(st.items[0]?.get('value'), 'value'), {
      message: 'value: expected a number, found a 1x2 double array',
    });
    assert.throws(() => matString(rows, 'rows'), { message: 'rows: expected one string, found 2 rows' });
  });
}

/** A MAT file built by hand: one 1x1 uint16 variable x = 513, in either byte order, optionally compressed. */
function handMade(bigEndian: boolean, compress: boolean): Uint8Array {
  const le = !bigEndian;
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    le ? b.writeUInt32LE(v) : b.writeUInt32BE(v);
    return b;
  };
  const flags = Buffer.concat([u32(6), u32(8), u32(11), u32(0)]); // miUINT32, 8 bytes, mxUINT16_CLASS
  const dims = Buffer.concat([u32(5), u32(8), u32(1), u32(1)]); // miINT32 1x1
  const name = Buffer.concat([u32((1 << 16) | 1), Buffer.from('x\0\0\0')]); // small element, miINT8 "x"
  const value = Buffer.alloc(2);
  le ? value.writeUInt16LE(513) : value.writeUInt16BE(513);
  const data = Buffer.concat([u32((2 << 16) | 4), value, Buffer.alloc(2)]); // small element, miUINT16
  const body = Buffer.concat([flags, dims, name, data]);
  let element = Buffer.concat([u32(14), u32(body.length), body]);
  if (compress) {
    const z = deflateSync(element);
    element = Buffer.concat([u32(15), u32(z.length), z]);
  }
  const header = Buffer.alloc(128, 0x20);
  header.write('MATLAB 5.0 MAT-file, hand made', 0, 'latin1');
  le ? header.writeUInt16LE(0x0100, 124) : header.writeUInt16BE(0x0100, 124);
  header.write(le ? 'IM' : 'MI', 126, 'latin1');
  return Buffer.concat([header, element]);
}

test('MAT v5: small data elements, both byte orders, with and without compression', () => {
  for (const bigEndian of [false, true]) {
    for (const compress of [false, true]) {
      const x = readMat(handMade(bigEndian, compress)).get('x');
      assert.deepEqual(plain(x), { dims: [1, 1], data: [513], class: 'uint16' }, `be=${bigEndian} z=${compress}`);
    }
  }
});

test('MAT v5: truncated, corrupt-compressed and foreign files are refused with a reason', () => {
  const good = handMade(false, true);
  assert.throws(() => readMat(good.subarray(0, good.length - 5)), MatFormatError);
  const corrupt = Buffer.from(good);
  corrupt[140] = (corrupt[140]! + 1) & 0xff;
  assert.throws(() => readMat(corrupt), /compressed element does not inflate|data element/);
  assert.throws(() => readMat(Buffer.alloc(200)), {
    message: 'not a MATLAB level-5 MAT-file (no "MATLAB 5.0 MAT-file" header)',
  });
  const plainFile = handMade(false, false);
  const sparse = Buffer.from(plainFile);
  sparse.writeUInt32LE(5, 128 + 16); // class byte of the array flags: mxSPARSE_CLASS
  assert.throws(() => readMat(sparse), { message: "variable 'x' is a sparse array, not supported" });
});
