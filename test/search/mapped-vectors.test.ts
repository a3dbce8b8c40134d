// f32 vectors memory-mapped at open (io/mapped-file.ts, the search addon's mapFile) give the results of
// vectors read into the heap, in every mode, exact and through the graphs; the file is still verified
// (a changed byte is refused before anything maps it), and a file replaced after it was verified is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { canMapFiles, identityOf, mapFile } from '../../src/io/mapped-file.js';
import { fileOf } from '../../src/search/manifest.js';
import { openIndex } from '../../src/search/open-index.js';
import type { SearchMode, VisualSearchIndex } from '../../src/search/types.js';
import { readIndexArrays } from '../../src/search/usearch/read-content.js';
import { InputError } from '../../src/util/errors.js';
import { randomUnit, write } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'normsoftmax-mapped-'));
after(() => rmSync(root, { recursive: true, force: true }));

const N = 1200;
const DIM = 24;
const vectors = randomUnit(N, DIM, 11);
const queries = Array.from({ length: 40 }, (_, i) => randomUnit(1, DIM, 500 + i));

async function withEnv<T>(mmap: '0' | undefined, run: () => Promise<T>): Promise<T> {
  const before = process.env.NORMSOFTMAX_MMAP;
  if (mmap === undefined) delete process.env.NORMSOFTMAX_MMAP;
  else process.env.NORMSOFTMAX_MMAP = mmap;
  try {
    return await run();
  } finally {
    if (before === undefined) delete process.env.NORMSOFTMAX_MMAP;
    else process.env.NORMSOFTMAX_MMAP = before;
  }
}

/** Every mode, exact and not, plus search by id and an item's vector. */
async function answers(index: VisualSearchIndex) {
  const out: unknown[] = [];
  for (const mode of ['float', 'binary', 'rerank'] as SearchMode[])
    for (const exact of [false, true]) out.push(await index.search(queries, { k: 7, mode, exact }));
  out.push(await index.search(queries, { k: 7, mode: 'float', where: "label = 'c1'" }));
  const v = index.vectorOf('item17');
  out.push(Array.from(v ?? []));
  out.push(await index.search([v as Float32Array], { k: 3, mode: 'float' }));
  return out;
}

test('the search addon maps files here (the rest of this file tests the mapped path)', () => {
  assert.equal(canMapFiles({}), true, 'native/build/normsoftmax_search.node lacks mapFile: rebuild it');
  assert.equal(canMapFiles({ NORMSOFTMAX_MMAP: '0' }), false);
});

for (const exactBelow of [50_000, 0]) {
  const what = exactBelow === 0 ? 'with HNSW graphs' : 'exact';
  test(`${what}: mapped f32 vectors give the answers of vectors read into the heap`, async () => {
    const dir = join(root, `idx-${exactBelow}`);
    await write(dir, vectors, DIM, { exactBelow });
    const a = readIndexArrays(dir, { mapVectors: true });
    assert.ok(a.mappedVectors, 'mapped');
    assert.deepEqual(
      new Float32Array(a.vectorBytes.buffer, a.vectorBytes.byteOffset, N * DIM),
      vectors,
      'the stored f32 rows, as written',
    );
    assert.equal(readIndexArrays(dir).mappedVectors, null, 'not asked: read');
    const mapped = await withEnv(undefined, () => openIndex(dir));
    const read = await withEnv('0', () => openIndex(dir));
    try {
      assert.deepEqual(await answers(mapped), await answers(read));
      // Every item finds itself first through the mapped vectors.
      const all = Array.from({ length: N }, (_, i) => vectors.slice(i * DIM, (i + 1) * DIM));
      const hits = await mapped.search(all, { k: 1, mode: 'float' });
      assert.deepEqual(
        hits.map((h, i) => (h[0]?.id === `item${i}` ? -1 : i)).filter((i) => i >= 0),
        [],
      );
    } finally {
      await Promise.all([mapped.close(), read.close()]);
    }
  });
}

test('f16 and i8 are decoded into memory as before (nothing mapped)', async () => {
  const dir = join(root, 'i8');
  await write(dir, vectors, DIM, { precision: 'i8' });
  assert.equal(readIndexArrays(dir, { mapVectors: true }).mappedVectors, null);
  const index = await openIndex(dir);
  try {
    const [hits] = await index.search([vectors.slice(0, DIM)], { k: 1, mode: 'float' });
    assert.equal(hits?.[0]?.id, 'item0');
  } finally {
    await index.close();
  }
});

test('a mapped vectors file is verified first: one changed byte is refused, naming the file', async () => {
  const dir = join(root, 'corrupt');
  const m = await write(dir, vectors, DIM);
  const name = fileOf(m, 'vectors')?.name as string;
  const bytes = readFileSync(join(dir, name));
  bytes[100] = (bytes[100] as number) ^ 1;
  writeFileSync(join(dir, name), bytes);
  await assert.rejects(
    openIndex(dir),
    (e: Error) => e instanceof InputError && e.message.includes(`${name} does not match its SHA-256`),
  );
});

test('mapFile refuses a file replaced after it was verified, and maps the bytes of one that was not', () => {
  const path = join(root, 'pinned.bin');
  writeFileSync(path, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  const verified = identityOf(statSync(path));
  assert.deepEqual([...mapFile(path, verified).bytes], [1, 2, 3, 4, 5, 6, 7, 8]);
  writeFileSync(`${path}.new`, Buffer.from([9, 9, 9, 9, 9, 9, 9, 9]));
  renameSync(`${path}.new`, path);
  assert.throws(
    () => mapFile(path, verified),
    (e: Error) =>
      e instanceof InputError && e.message === `${path} changed after it was verified: open the index again`,
  );
  // Writes into a private mapping stay in this process: the file keeps its bytes.
  const m = mapFile(path);
  assert.equal(m.mapped, true);
  m.bytes[0] = 1;
  assert.equal(readFileSync(path)[0], 9);
  writeFileSync(join(root, 'empty.bin'), '');
  assert.equal(mapFile(join(root, 'empty.bin')).bytes.length, 0);
  assert.throws(() => mapFile(join(root, 'absent.bin')), /absent\.bin/);
});
