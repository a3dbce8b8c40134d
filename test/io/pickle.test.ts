// The pickle VM on hand-assembled programs: values, containers, memo, and its refusals.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PyDict, unpickle } from '../../src/io/pickle.js';
import { op, pickle } from './build-bytes.js';

const noGlobals = {
  findGlobal: (m: string, n: string): never => {
    throw new Error(`global ${m}.${n} refused`);
  },
  persistentLoad: (): never => {
    throw new Error('no persistent ids');
  },
};
const run = (bytes: Uint8Array) => unpickle(bytes, noGlobals);

describe('pickle VM', () => {
  test('ints of every width, floats, strings, bytes, booleans and None', () => {
    const program = pickle(
      [0x80, 0x02],
      op('('),
      [0x4b, 200], // BININT1
      [0x4d, 0x34, 0x12], // BININT2
      -5, // BININT
      [0x8a, 0x02, 0xff, 0x7f], // LONG1 32767
      [0x8a, 0x01, 0xff], // LONG1 -1
      [0x8a, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x01], // LONG1 2^64 -> bigint
      [0x47, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18], // BINFLOAT pi (big-endian)
      'héllo',
      [0x8c, 0x02, 0x6f, 0x6b], // SHORT_BINUNICODE 'ok'
      [0x43, 0x02, 0x00, 0xff], // SHORT_BINBYTES
      [0x88, 0x89, 0x4e], // True False None
      op('l.'),
    );
    assert.deepEqual(run(program), [
      200,
      0x1234,
      -5,
      32767,
      -1,
      2n ** 64n,
      Math.PI,
      'héllo',
      'ok',
      Uint8Array.of(0, 255),
      true,
      false,
      null,
    ]);
  });

  test('dicts, tuples, memo and shared references', () => {
    // {'a': (1, 2), 'b': <the same tuple>, 'c': []+[3, 4]}
    const program = pickle(
      [0x80, 0x02],
      op('}('),
      'a',
      [0x4b, 1, 0x4b, 2, 0x86, 0x71, 0x05], // TUPLE2, BINPUT 5
      'b',
      [0x68, 0x05], // BINGET 5
      'c',
      op(']('),
      [0x4b, 3, 0x4b, 4],
      op('e'),
      op('u.'),
    );
    const out = run(program) as PyDict;
    assert.ok(out instanceof PyDict);
    assert.deepEqual([...out.items.keys()], ['a', 'b', 'c']);
    assert.deepEqual(out.items.get('a'), [1, 2]);
    assert.equal(out.items.get('b'), out.items.get('a'));
    assert.deepEqual(out.items.get('c'), [3, 4]);
  });

  test('globals go through the allow-list, REDUCE calls what it returns', () => {
    const program = pickle([0x80, 0x02], op('cm\nf\n'), 7, [0x85], op('R.'));
    const calls: unknown[] = [];
    const out = unpickle(program, {
      findGlobal: (m, n) => (args: unknown[]) => {
        calls.push([m, n, args]);
        return 'called';
      },
      persistentLoad: () => null,
    });
    assert.equal(out, 'called');
    assert.deepEqual(calls, [['m', 'f', [7]]]);
    assert.throws(() => run(program), /global m\.f refused/);
  });

  test('malformed programs say what and where', () => {
    assert.throws(() => run(pickle([0x80, 0x02], [0x58, 10, 0, 0, 0, 0x61])), /pickle byte 2: .*truncated/);
    assert.throws(() => run(pickle([0x80, 0x02, 0xff])), /pickle byte 2: unsupported pickle opcode 0xff/);
    assert.throws(() => run(pickle([0x80, 0x02, 0x4e, 0x4e], op('.'))), /STOP with 2 objects/);
    assert.throws(() => run(pickle([0x80, 0x02, 0x68, 0x09])), /memo key 9 was never stored/);
    assert.throws(() => run(pickle([0x80, 0x02], op('0'))), /the stack is empty/);
    assert.throws(() => run(pickle([0x80, 0x02, 0x4e], op('b.'))), /the stack is empty/);
    assert.throws(() => run(pickle([0x80, 0x02, 0x4b, 1, 0x4b, 2], op('s.'))), /stack is empty|not a dict/);
  });
});
