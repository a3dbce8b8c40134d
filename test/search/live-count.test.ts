// `index info`'s live item count, read cheaply (the log replayed over the base rows of the ids it names,
// from the items alone, no vectors): the same number as the full replay (readContent) after adds, replaces
// and deletes of base and of new items, a delete and re-add, and ids that look like JSON; both backends,
// and through `index info --json`. The items file's id scan against a full parse, over random ids.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { acquireWriterLock } from '../../src/io/writer-lock.js';
import { BACKENDS } from '../../src/search/backends.js';
import { liveItemCount, logAfter } from '../../src/search/live/replay.js';
import { readManifest } from '../../src/search/manifest.js';
import { openIndex } from '../../src/search/open-index.js';
import type { IndexBackend, ItemMeta } from '../../src/search/types.js';
import { parseItems, rowsOfIds, serializeItems } from '../../src/search/usearch/items-file.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { randomUnit, writeBackend } from './helpers.js';

process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false';
const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-live-count-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const DIM = 4;
const N = 10;
const fresh = randomUnit(40, DIM, 5);
const vec = (i: number) => fresh.slice((i % 40) * DIM, ((i % 40) + 1) * DIM);
const item = (id: string): ItemMeta => ({ id, path: null, label: 'x', size: null, hash: null, meta: { n: 1 } });
const ODD = ['a","path":"b', 'é/😀', 'x,"path":y', '{"id":"item3"}'];

async function buildIndex(backend: IndexBackend, idx: string): Promise<void> {
  const base = randomUnit(N, DIM, 4);
  await writeBackend(backend, idx, base, DIM);
}

async function cheapAndFull(idx: string): Promise<[number, number]> {
  const m = readManifest(idx);
  const backend = BACKENDS[m.backend];
  const cheap = await liveItemCount(m, logAfter(idx, m).ops, (ids) => backend.rowsOfIds(idx, m, ids));
  return [cheap, (await backend.readContent(idx)).items.length];
}

for (const backend of ['usearch', 'lancedb'] as const) {
  test(`${backend}: the live count from the items and the log equals the full replay's`, async () => {
    const idx = join(dir, backend);
    await buildIndex(backend, idx);
    const steps: [string, (w: NonNullable<Awaited<ReturnType<typeof openIndex>>['writer']>) => Promise<unknown>][] = [
      ['adds', async (w) => Promise.all(['n1', 'n2', 'n3', ...ODD].map((id, i) => w.put(item(id), vec(i))))],
      [
        'replaces of base and new items',
        async (w) => Promise.all(['item0', 'item4', 'n1'].map((id, i) => w.put(item(id), vec(i + 9)))),
      ],
      [
        'deletes of base and new items',
        async (w) => Promise.all(['item1', 'item2', 'n2', ODD[0] as string].map((id) => w.remove(id))),
      ],
      [
        'a delete and a re-add',
        async (w) => {
          await w.remove('item5');
          await w.put(item('item5'), vec(20));
          await w.remove('n3');
          await w.put(item('n3'), vec(21));
          await w.remove('item6');
        },
      ],
    ];
    // Expected after each step: 10 + 7; + 0; - 4; - 1.
    const expected = [17, 17, 13, 12];
    for (const [i, [what, run]] of steps.entries()) {
      const lock = acquireWriterLock(idx, 'test');
      const index = await openIndex(idx, { writer: { lock, compactAbove: 100_000 }, log: () => {} });
      try {
        await run(index.writer as NonNullable<typeof index.writer>);
        assert.equal(index.stats().items, expected[i], `${what}: the open index's count`);
      } finally {
        await index.close();
        lock.release();
      }
      assert.deepEqual(await cheapAndFull(idx), [expected[i], expected[i]], `after ${what}`);
    }
    if (backend === 'usearch') {
      const args = ['index', 'info', idx, '--json'];
      const r = runCli(args);
      assert.equal(r.code, 0, describeRun(args, r));
      assert.deepEqual(JSON.parse(r.stdout).live, { items: 12, logged: 19 });
    }
  });
}

test("the items file's id scan finds the rows a full parse finds, whatever the ids", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }), { minLength: 1, maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      (ids, picks) => {
        const items = ids.map((id, i) => ({
          ...item(id),
          ...(i % 2 ? { stored: true as const, path: 'files/a' } : {}),
        }));
        const text = serializeItems(items);
        const parsed = parseItems(text, 'items.jsonl', items.length);
        const wanted = new Set([...picks.map((p) => ids[p % ids.length] as string), 'not-there']);
        const want = new Map(parsed.flatMap((it, row) => (wanted.has(it.id) ? [[it.id, row] as const] : [])));
        assert.deepEqual(rowsOfIds(text, wanted), want);
      },
    ),
  );
});
