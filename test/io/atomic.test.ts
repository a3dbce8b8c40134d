// writeFileAtomic: temp file -> fsync -> rename -> folder fsync (a crash right after the rename keeps the
// new name), and a full disk leaves the old file and no temp file behind, with one error naming the file.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { DiskFullError } from '../../src/io/disk-full.js';
import { assertDurable, traceDurableWrites } from '../helpers/fs-trace.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writeFileAtomic fsyncs the temp file, renames it, then fsyncs the folder', async () => {
  const target = join(dir, 'a.json');
  const steps = await traceDurableWrites(() => writeFileAtomic(target, '{"a":1}\n'));
  assertDurable(steps, 'a.json', basename(dir));
  assert.equal(readFileSync(target, 'utf8'), '{"a":1}\n');
  assert.deepEqual(readdirSync(dir), ['a.json']);
});

test('a full disk halfway through: DiskFullError naming the file, the old content kept, no temp file', () => {
  const target = join(dir, 'b.bin');
  writeFileSync(target, 'old');
  process.env.NORMSOFTMAX_FAULT = 'index-build:write-data=enospc';
  try {
    assert.throws(
      () => writeFileAtomic(target, new Uint8Array(1000).fill(7), { fault: 'index-build:write-data' }),
      (e: Error) =>
        e instanceof DiskFullError &&
        e.exitCode === 1 &&
        e.message === `${target}: no space left on device; free some space and run the command again`,
    );
  } finally {
    delete process.env.NORMSOFTMAX_FAULT;
  }
  assert.equal(readFileSync(target, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'b.bin']);
});
