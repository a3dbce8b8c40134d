// The zip reader on hand-made archives: stored entries as views, zip64 records, corrupt directories.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { ZipArchive } from '../../src/io/zip.js';
import { zipStored } from './build-bytes.js';
import { assertFormatError } from './expected.js';

describe('zip reader', () => {
  test('stored entries come back as views of the archive bytes', () => {
    const bytes = zipStored({ 'a/x': 'hello', 'a/y': new Uint8Array([1, 2, 3]) });
    const zip = new ZipArchive(bytes, 't.zip');
    assert.deepEqual([...zip.entries.keys()], ['a/x', 'a/y']);
    const y = zip.read('a/y');
    assert.deepEqual([...y], [1, 2, 3]);
    assert.equal(y.buffer, bytes.buffer);
    assert.equal(new TextDecoder().decode(zip.read('a/x')), 'hello');
  });

  test('zip64 end records and extra fields', () => {
    const zip = new ZipArchive(zipStored({ first: 'abc', second: 'defgh' }, true), 't.zip');
    assert.equal(new TextDecoder().decode(zip.read('second')), 'defgh');
    assert.deepEqual(zip.entries.get('second'), {
      name: 'second',
      method: 0,
      compressedSize: 5,
      size: 5,
      localHeaderOffset: 38,
    });
  });

  test('a deflated entry is inflated, a corrupt one is an error', () => {
    const bytes = zipStored({ d: deflateRawSync(Buffer.from('squeeze me')) });
    const zip = new ZipArchive(bytes, 't.zip');
    const entry = zip.entries.get('d');
    assert.ok(entry);
    entry.method = 8;
    entry.size = 10;
    assert.equal(new TextDecoder().decode(zip.read('d')), 'squeeze me');
    entry.size = 11;
    assertFormatError(() => zip.read('d'), "'d' inflated to 10 bytes, expected 11");
    entry.method = 12;
    assertFormatError(() => zip.read('d'), 'compression method 12');
  });

  test('missing entries and corrupt archives', () => {
    const bytes = zipStored({ x: 'data' });
    assertFormatError(() => new ZipArchive(bytes, 't.zip').read('y'), "t.zip: zip has no entry 'y'");
    assertFormatError(() => new ZipArchive(bytes.subarray(0, 10), 't.zip'), 'truncated zip: only 10 bytes');
    const badCentral = bytes.slice();
    badCentral[bytes.length - 22 - 47] = 0; // the central directory entry (46 bytes + name 'x') starts here
    assertFormatError(() => new ZipArchive(badCentral, 't.zip'), 'central directory entry 0 has a bad signature');
    const badOffset = bytes.slice();
    new DataView(badOffset.buffer).setUint32(bytes.length - 6, 1 << 30, true);
    assertFormatError(() => new ZipArchive(badOffset, 't.zip'), 'the central directory lies past the end');
  });
});
