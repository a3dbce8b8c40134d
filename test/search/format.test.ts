// The index format: a round trip at each precision, the version rule, checksum and size checks, atomic
// generations, and the f16 converter against known bit patterns.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readManifest } from '../../src/search/manifest.js';
import { openIndex } from '../../src/search/open-index.js';
import { fromHalf, toHalf } from '../../src/search/precision.js';
import { randomUnit, write } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-index-format-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('f16 conversion rounds to nearest even and keeps specials', () => {
  assert.equal(toHalf(1), 0x3c00);
  assert.equal(toHalf(-2), 0xc000);
  assert.equal(toHalf(65504), 0x7bff);
  assert.equal(toHalf(1e6), 0x7c00);
  assert.equal(toHalf(2 ** -24), 0x0001);
  assert.equal(toHalf(1 + 2 ** -11), 0x3c00); // halfway: to even
  assert.equal(toHalf(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(fromHalf(0x3555), 0.333251953125);
  assert.equal(fromHalf(0x0001), 2 ** -24);
});

for (const [precision, tolerance] of [
  ['f32', 0],
  ['f16', 1e-3],
  ['i8', 1.5e-2],
] as const) {
  test(`round trip at ${precision}: metadata, vectors within ${tolerance}, codes exact`, async () => {
    const dim = 24;
    const v = randomUnit(40, dim, 7);
    const out = join(dir, `rt-${precision}`);
    const m = await write(out, v, dim, { precision });
    assert.equal(m.format, 'normsoftmax-index');
    assert.equal(m.version, 1);
    assert.equal(m.items, 40);
    assert.equal(m.codeBytes, 3);
    const vf = m.files.find((f) => f.role === 'vectors');
    assert.equal(vf?.bytes, 40 * dim * { f32: 4, f16: 2, i8: 1 }[precision]);
    assert.equal(
      m.files.some((f) => f.role === 'scales'),
      precision === 'i8',
    );
    const index = await openIndex(out);
    try {
      assert.deepEqual(index.item('item5'), { id: 'item5', path: 'c2/item5.png', label: 'c2', size: null, hash: null });
      assert.equal(index.stats().items, 40);
      assert.equal(index.stats().precision, precision);
      for (let r = 0; r < 40; r++) {
        const got = index.vectorOf(`item${r}`) as Float32Array;
        let err = 0;
        let norm = 0;
        for (let j = 0; j < dim; j++) {
          err = Math.max(err, Math.abs((got[j] as number) - (v[r * dim + j] as number)));
          norm += (got[j] as number) ** 2;
        }
        assert.ok(err <= tolerance, `row ${r}: error ${err}`);
        assert.ok(Math.abs(norm - 1) < 1e-5, `row ${r} is unit length after load (${norm})`);
      }
      if (precision === 'f32') assert.deepEqual(index.vectorOf('item3'), v.slice(3 * dim, 4 * dim));
      // Codes: the stored bytes are bit = x > 0 of the full-precision vectors, LSB first.
      const codes = readFileSync(join(out, m.files.find((f) => f.role === 'codes')?.name as string));
      for (let j = 0; j < dim; j++)
        assert.equal(((codes[3 + (j >> 3)] as number) >> (j & 7)) & 1, (v[dim + j] as number) > 0 ? 1 : 0);
    } finally {
      await index.close();
    }
  });
}

test('a newer format version is refused with a message naming it', async () => {
  const out = join(dir, 'newer');
  await write(out, randomUnit(5, 8), 8);
  const path = join(out, 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify({ ...m, version: 3 }));
  assert.throws(() => readManifest(out), {
    name: 'FormatError',
    message: /index format version 3 is newer than this normsoftmax reads \(version 2\)/,
  });
  await assert.rejects(openIndex(out), /version 3/);
  writeFileSync(path, JSON.stringify({ ...m, format: 'something-else' }));
  await assert.rejects(openIndex(out), /format is "something-else"/);
});

test('a data file that does not match its checksum or size is refused before it is read', async () => {
  const out = join(dir, 'corrupt');
  const m = await write(out, randomUnit(6, 8), 8);
  const codes = join(out, m.files.find((f) => f.role === 'codes')?.name as string);
  const bytes = readFileSync(codes);
  bytes[0] = (bytes[0] as number) ^ 1;
  writeFileSync(codes, bytes);
  await assert.rejects(openIndex(out), {
    name: 'InputError',
    message: /codes\.bin does not match its SHA-256 in the manifest/,
  });
  writeFileSync(codes, bytes.subarray(1));
  await assert.rejects(openIndex(out), /has 5 bytes, the manifest says 6/);
  rmSync(codes);
  await assert.rejects(openIndex(out), /is missing/);
  await assert.rejects(openIndex(join(dir, 'nothing-here')), /no such folder/);
});

test('a rebuild writes a new generation and removes the old files only after its manifest', async () => {
  const out = join(dir, 'generations');
  await write(out, randomUnit(5, 8, 1), 8);
  const second = await write(out, randomUnit(7, 8, 2), 8);
  assert.equal(second.generation, 2);
  const names = readdirSync(out).sort();
  assert.deepEqual(names, ['g2-codes.bin', 'g2-items.jsonl', 'g2-vectors.f32', 'manifest.json']);
  const index = await openIndex(out);
  assert.equal(index.stats().items, 7);
  await index.close();
});
