// The records of an interrupted build (src/search/build/partial.ts): each record carries its id, content
// hash, vector and a CRC-32, so a torn, damaged or interleaved append can only end the valid prefix, never
// pair a vector with another item (properties over random records and damage), and the file is cut there
// so that later appends line up.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeRecords,
  encodeRecords,
  PARTIAL_DIR,
  PARTIAL_RECORDS,
  PartialEmbeddings,
  type PartialItem,
} from '../../src/search/build/partial.js';
import { crc32 } from '../../src/util/crc32.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-partial-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('crc32 of "123456789" is 0xCBF43926 (the IEEE check value)', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

const recordsArb = fc.integer({ min: 1, max: 6 }).chain((dim) =>
  fc.record({
    dim: fc.constant(dim),
    items: fc.array(
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }),
        hash: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }),
        vector: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: dim, maxLength: dim }),
      }),
      { minLength: 1, maxLength: 8 },
    ),
  }),
);

type Rec = { id: string; hash: string | null; vector: number[] };
const encode = (items: Rec[], dim: number) =>
  encodeRecords(
    items.map(({ id, hash }): PartialItem => ({ id, hash })),
    Float32Array.from(items.flatMap((r) => r.vector)),
    dim,
  );
/** The byte offset where each record starts, and the end. */
const offsets = (items: Rec[], dim: number) => {
  const out = [0];
  for (const r of items) out.push((out.at(-1) as number) + encode([r], dim).length);
  return out;
};
const same = (got: { id: string; hash: string | null; vector: Float32Array }, want: Rec) =>
  got.id === want.id &&
  got.hash === want.hash &&
  Array.from(got.vector).every((v, i) => Object.is(v, Math.fround(want.vector[i] as number)));

function assertPrefix(decoded: ReturnType<typeof decodeRecords>, items: Rec[], count: number, at: number[]): void {
  assert.equal(decoded.records.length, count);
  for (const [i, r] of decoded.records.entries()) assert.ok(same(r, items[i] as Rec), `record ${i}`);
  assert.equal(decoded.validBytes, at[count]);
}

test('a torn append (any length) recovers exactly the records it holds whole', () => {
  fc.assert(
    fc.property(recordsArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ dim, items }, f) => {
      const bytes = encode(items, dim);
      const cut = Math.floor(f * bytes.length);
      const at = offsets(items, dim);
      const whole = at.filter((o) => o <= cut).length - 1;
      assertPrefix(decodeRecords(bytes.subarray(0, cut), dim), items, whole, at);
    }),
    { numRuns: 100 },
  );
});

test('a damaged byte ends the valid prefix at the record that holds it', () => {
  fc.assert(
    fc.property(recordsArb, fc.nat(), fc.integer({ min: 1, max: 255 }), ({ dim, items }, p, x) => {
      const bytes = Buffer.from(encode(items, dim));
      const pos = p % bytes.length;
      bytes[pos] = (bytes[pos] as number) ^ x;
      const at = offsets(items, dim);
      assertPrefix(decodeRecords(bytes, dim), items, at.filter((o) => o <= pos).length - 1, at);
    }),
    { numRuns: 100 },
  );
});

test("two writers' appends interleaved mid-record: no vector is read with another item's id", () => {
  fc.assert(
    fc.property(recordsArb, recordsArb, fc.nat(), ({ dim, items }, other, p) => {
      const a = encode(items, dim);
      const others = other.items.map((r) => ({
        ...r,
        vector: Array.from({ length: dim }, (_, i) => r.vector[i % other.dim] as number),
      }));
      const b = encode(others, dim);
      const at = offsets(items, dim);
      const pos = p % a.length;
      const mixed = Buffer.concat([a.subarray(0, pos), b, a.subarray(pos)]);
      const got = decodeRecords(mixed, dim);
      const before = at.filter((o) => o <= pos).length - 1;
      // The records wholly before the splice, then possibly B's (whole, self-consistent) records: every
      // recovered record is one that was written, with its own vector.
      assert.ok(got.records.length >= before);
      for (const [i, r] of got.records.slice(0, before).entries()) assert.ok(same(r, items[i] as Rec));
      const written = [...items, ...others];
      for (const r of got.records)
        assert.ok(
          written.some((w) => same(r, w)),
          `recovered ${r.id} with a vector it was not written with`,
        );
    }),
    { numRuns: 100 },
  );
});

test('PartialEmbeddings: a torn tail is dropped, logged, cut from the file; later appends resume cleanly', () => {
  const idx = join(dir, 'idx');
  const key = { checkpointSha256: 'a'.repeat(64), dim: 3, resize: 0, crop: 0 };
  const items = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: `i${from + i}`, hash: `${from + i}`.padStart(64, '0') }));
  const vectors = (from: number, n: number) => Float32Array.from({ length: n * 3 }, (_, k) => from * 3 + k + 0.5);
  const p = new PartialEmbeddings(idx, key);
  p.append(items(0, 4), vectors(0, 4));
  p.append(items(4, 2), vectors(4, 2));
  const file = join(idx, PARTIAL_DIR, PARTIAL_RECORDS);
  const whole = statSync(file).size;
  writeFileSync(file, encodeRecords(items(6, 2), vectors(6, 2), 3).subarray(0, 50), { flag: 'a' });

  const lines: string[] = [];
  const q = new PartialEmbeddings(idx, key, (l) => lines.push(l));
  assert.equal(q.size, 6);
  assert.deepEqual(lines, [
    `interrupted build: 6 embedded items recovered from ${join(idx, PARTIAL_DIR)}; 50 bytes after them (a torn or damaged record) dropped`,
  ]);
  assert.equal(statSync(file).size, whole);
  assert.deepEqual(Array.from(q.get('i5', items(5, 1)[0]?.hash ?? null) ?? []), [15.5, 16.5, 17.5]);
  assert.equal(q.get('i5', 'f'.repeat(64)), undefined, 'another content hash is not this vector');
  q.append(items(6, 2), vectors(6, 2));
  assert.equal(new PartialEmbeddings(idx, key).size, 8);

  // Another embedder, or the earlier format (vectors.f32 + done.jsonl): started afresh.
  assert.equal(new PartialEmbeddings(idx, { ...key, checkpointSha256: 'b'.repeat(64) }).size, 0);
  const old = join(dir, 'old');
  mkdirSync(join(old, PARTIAL_DIR), { recursive: true });
  writeFileSync(join(old, PARTIAL_DIR, 'key.json'), JSON.stringify(key));
  writeFileSync(join(old, PARTIAL_DIR, 'vectors.f32'), new Uint8Array(12));
  writeFileSync(join(old, PARTIAL_DIR, 'done.jsonl'), '{"id":"i0","hash":null}\n');
  assert.equal(new PartialEmbeddings(old, key).size, 0);
  assert.equal(existsSync(join(old, PARTIAL_DIR, 'vectors.f32')), false);
  assert.match(readFileSync(join(old, PARTIAL_DIR, 'key.json'), 'utf8'), /normsoftmax-partial-2/);
});
