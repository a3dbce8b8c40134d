// The write-ahead log of a live index: records round-trip; a log cut at every byte of its last record reads
// back as the records before it, and zeros (preallocated space) end it cleanly; a damaged checksum or a
// sequence number out of order ends it; group commit (concurrent appends share batches, each answered after
// its batch, in order); a barrier's rotation, and dropping folded segments; a full disk mid-batch fails that
// batch and leaves a log that reads clean and takes the next write; a gap is told apart from damage. And the
// compaction layout: rows stay dense, every kept row and put lands exactly once, holes are filled first.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { DiskFullError } from '../../src/io/disk-full.js';
import { compactionLayout, sourcesOf } from '../../src/search/live/layout.js';
import { readWal, segmentName, WAL_DIR, WalGapError, WalWriter } from '../../src/search/live/wal.js';
import { decodeWalSegment, encodeWalRecord, type LiveOp, type LiveWrite } from '../../src/search/live/wal-format.js';
import type { ItemMeta } from '../../src/search/types.js';
import { InputError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-wal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const DIM = 4;
const item = (id: string): ItemMeta => ({ id, path: null, label: 'l', size: null, hash: null, meta: { n: 1, s: 'é' } });
const put = (id: string, x = 1): LiveWrite => ({
  kind: 'put',
  item: item(id),
  vector: Float32Array.from([x, 0, 0, 0]),
});

test('records round-trip; a torn last record at any byte, or zeros after the log, end it', () => {
  const writes: LiveWrite[] = [put('a'), { kind: 'delete', id: 'b' }, put('é/😀', 0.5)];
  const records = writes.map((w, i) => encodeWalRecord(w, 10 + i));
  const all = Buffer.concat(records);
  const d = decodeWalSegment(all, 10, DIM);
  assert.deepEqual(
    d.ops,
    writes.map((w, i) => ({ ...w, seq: 10 + i })),
  );
  assert.equal(d.validBytes, all.length);
  assert.equal(d.torn, false);
  const before = all.length - (records[2] as Buffer).length;
  for (let cut = before; cut < all.length; cut++) {
    const t = decodeWalSegment(all.subarray(0, cut), 10, DIM);
    assert.equal(t.ops.length, 2, `cut at ${cut}`);
    assert.equal(t.validBytes, before);
    assert.equal(t.torn, cut > before);
  }
  const padded = Buffer.concat([all, Buffer.alloc(100)]);
  assert.deepEqual(decodeWalSegment(padded, 10, DIM), { ...d, torn: false });
  const damaged = Buffer.from(all);
  damaged[before + 25] = (damaged[before + 25] as number) ^ 1;
  assert.equal(decodeWalSegment(damaged, 10, DIM).ops.length, 2, 'a bad checksum ends the log');
  assert.equal(decodeWalSegment(all, 11, DIM).ops.length, 0, 'the first record must have the first number');
  assert.equal(decodeWalSegment(all, 10, DIM + 1).ops.length, 0, 'a vector of another dim is not read');
});

test('group commit: concurrent appends share batches, each is answered after its batch, in order', async () => {
  const idx = join(dir, 'group');
  const seen: number[] = [];
  const w = await WalWriter.open(
    idx,
    { lastSeq: 0, segments: [] },
    { onDurable: (ops) => seen.push(...ops.map((o) => o.seq)) },
  );
  const answered: number[] = [];
  const ops = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      w.append(put(`i${i}`)).then((op) => {
        answered.push(op.seq);
        assert.ok(seen.includes(op.seq), 'applied before it is answered');
        return op;
      }),
    ),
  );
  assert.deepEqual(
    ops.map((o) => o.seq),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  assert.deepEqual(
    answered,
    ops.map((o) => o.seq),
  );
  // Appended in one turn of the event loop: one batch (wal-group-commit.test.ts has the slow-disk cases).
  assert.equal(w.batches, 1, `${w.batches} batches for 50 concurrent appends`);
  const r = readWal(idx, 0, DIM);
  assert.equal(r.ops.length, 50);
  assert.equal(r.lastSeq, 50);
  assert.equal(r.tornBytes, 0);

  // A barrier runs between batches: rotation there starts a new segment at the next record.
  const late = w.append(put('late'));
  const cut = await w.barrier(async () => {
    await w.rotate();
    return seen.at(-1);
  });
  await late;
  assert.equal(cut, 51, 'the write appended before the barrier is in');
  await w.append(put('after'));
  assert.deepEqual(readdirSync(join(idx, WAL_DIR)).sort(), [segmentName(1), segmentName(52)]);
  assert.equal(readWal(idx, 0, DIM).ops.length, 52);
  assert.deepEqual(
    readWal(idx, 51, DIM).ops.map((o: LiveOp) => o.seq),
    [52],
  );
  assert.equal(w.dropThrough(51), 1);
  assert.deepEqual(readdirSync(join(idx, WAL_DIR)), [segmentName(52)]);
  await w.close();

  // Opened again: appends continue in the last segment.
  const again = await WalWriter.open(idx, readWal(idx, 51, DIM), { onDurable: () => {} });
  assert.equal(again.nextSeq, 53);
  await again.append({ kind: 'delete', id: 'x' });
  await again.close();
  assert.deepEqual(
    readWal(idx, 51, DIM).ops.map((o) => o.seq),
    [52, 53],
  );
});

test('a full disk halfway through a batch fails it (and what queued behind it); the log stays clean', async () => {
  const idx = join(dir, 'full');
  const w = await WalWriter.open(idx, { lastSeq: 0, segments: [] }, { onDurable: () => {} });
  await w.append(put('ok'));
  process.env.NORMSOFTMAX_FAULT = 'wal:mid-append=enospc';
  try {
    const failed = await Promise.allSettled([w.append(put('lost1')), w.append(put('lost2'))]);
    for (const f of failed) {
      assert.equal(f.status, 'rejected');
      assert.ok((f as PromiseRejectedResult).reason instanceof DiskFullError);
      assert.match(String((f as PromiseRejectedResult).reason.message), /wal\/0{15}1\.wal: no space left on device/);
    }
  } finally {
    delete process.env.NORMSOFTMAX_FAULT;
  }
  const op = await w.append(put('next'));
  assert.equal(op.seq, 2, 'the failed records took no sequence numbers');
  await w.close();
  const r = readWal(idx, 0, DIM);
  assert.deepEqual(
    r.ops.map((o) => (o.kind === 'put' ? o.item.id : o.id)),
    ['ok', 'next'],
  );
  assert.equal(r.tornBytes, 0);
});

test('a torn tail is reported and zeroed by the next writer; a gap and a damaged segment are told apart', async () => {
  const idx = join(dir, 'torn');
  const w = await WalWriter.open(idx, { lastSeq: 0, segments: [] }, { onDurable: () => {} });
  await w.append(put('a'));
  await w.close();
  const file = join(idx, WAL_DIR, segmentName(1));
  const bytes = readFileSync(file);
  // Its last bytes (the vector's last value) are not zero: what is left of them on disk is the preallocated zeros.
  const rec = encodeWalRecord({ kind: 'put', item: item('b'), vector: Float32Array.from([0, 0, 0.6, 0.8]) }, 2);
  rec.copy(bytes, encodeWalRecord(put('a'), 1).length, 0, rec.length - 3);
  writeFileSync(file, bytes);
  const r = readWal(idx, 0, DIM);
  assert.equal(r.ops.length, 1);
  assert.equal(r.tornBytes, rec.length - 3);
  const again = await WalWriter.open(idx, r, { onDurable: () => {} });
  await again.append(put('c'));
  await again.close();
  assert.deepEqual(
    readWal(idx, 0, DIM).ops.map((o) => (o.kind === 'put' ? o.item.id : '')),
    ['a', 'c'],
  );

  // A segment starting after the records the manifest needs: a gap (read the manifest again).
  const gap = join(dir, 'gap');
  const g = await WalWriter.open(gap, { lastSeq: 9, segments: [] }, { onDurable: () => {} });
  await g.append(put('x'));
  await g.close();
  assert.throws(() => readWal(gap, 5, DIM), WalGapError);
  assert.equal(readWal(gap, 9, DIM).ops.length, 1);
  // A later segment after a torn one: damage, named.
  writeFileSync(join(gap, WAL_DIR, segmentName(20)), encodeWalRecord(put('y'), 20));
  assert.throws(
    () => readWal(gap, 9, DIM),
    (e: unknown) => e instanceof InputError && /starts at record 20/.test(e.message),
  );
});

test('compaction layout: dense rows, every kept row and put exactly once, holes filled first', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 40 }),
      fc.array(fc.nat(39)),
      fc.integer({ min: 0, max: 30 }),
      (n, h, puts) => {
        const hidden = h.filter((r) => r < n);
        const l = compactionLayout(n, hidden, puts);
        const kept = n - new Set(hidden).size;
        assert.equal(l.n, kept + puts);
        const src = sourcesOf(n, l);
        const fromBase = Array.from(src).filter((s) => s >= 0);
        const fromPuts = Array.from(src).filter((s) => s < 0);
        assert.deepEqual(
          fromBase.sort((a, b) => a - b),
          Array.from({ length: n }, (_, r) => r).filter((r) => !hidden.includes(r)),
        );
        assert.equal(new Set(fromPuts).size, puts);
        const holes = [...new Set(hidden)].sort((a, b) => a - b);
        for (let i = 0; i < Math.min(puts, holes.length); i++) assert.equal(l.putRows[i], holes[i]);
        for (const [from, to] of l.moves) assert.ok(from >= l.n && to < l.n);
      },
    ),
    { seed: 18, numRuns: 300 },
  );
});
