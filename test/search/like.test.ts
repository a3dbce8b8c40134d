// LIKE without backtracking (src/search/like.ts): the meaning of SQL's LIKE (checked against a regular
// expression on short strings, where backtracking is harmless, and against LanceDB's own LIKE), and patterns
// that make a backtracking matcher run for minutes answer at once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileWhere } from '../../src/search/filter.js';
import { openLanceIndex } from '../../src/search/lancedb/open.js';
import { writeLanceIndex } from '../../src/search/lancedb/write.js';
import { likeMatcher } from '../../src/search/like.js';
import type { ItemMeta } from '../../src/search/types.js';
import { NO_EMBEDDER, randomUnit } from './helpers.js';

/** The reference: LIKE as an anchored regular expression over code points (the 'u' flag). */
function reference(pattern: string): RegExp {
  const body = Array.from(pattern, (ch) =>
    ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  );
  return new RegExp(`^${body.join('')}$`, 'su');
}

test('hand-made cases: anchors, runs of %, _ as one code point, case, no escape character', () => {
  const cases: [string, string, boolean][] = [
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['a%', 'a', true],
    ['a%', 'ba', false],
    ['%c', 'abc', true],
    ['%b%', 'abc', true],
    ['%b%', 'ac', false],
    ['a%%%c', 'ac', true],
    ['a%a', 'a', false],
    ['a%a', 'aa', true],
    ['_', '', false],
    ['_', 'é', true],
    ['_', '😀', true], // one code point, two UTF-16 units
    ['__', '😀', false],
    ['%_%😀', 'x😀', true],
    ['A%', 'abc', false],
    ['100\\%', '100\\abc', true], // \ is an ordinary character
    ['%', '', true],
    ['', '', true],
    ['', 'a', false],
    ['shoes/%', 'shoes/red.jpg', true],
    ['%%%%%%%%%%%%é', 'a'.repeat(3000), false],
  ];
  for (const [pattern, value, want] of cases) {
    assert.equal(likeMatcher(pattern)(value), want, `'${value.slice(0, 20)}' LIKE '${pattern}'`);
  }
});

test('property: the same answer as the regular expression, over patterns with %, _ and non-BMP characters', () => {
  const ch = fc.constantFrom('a', 'b', 'é', '😀', '\n');
  const pch = fc.oneof(ch, fc.constantFrom('%', '_'));
  fc.assert(
    fc.property(fc.array(pch, { maxLength: 8 }), fc.array(ch, { maxLength: 10 }), (p, v) => {
      const pattern = p.join('');
      const value = v.join('');
      assert.equal(likeMatcher(pattern)(value), reference(pattern).test(value), `'${value}' LIKE '${pattern}'`);
    }),
    { numRuns: 3000, seed: 17 },
  );
});

test('patterns that make a backtracking matcher explode answer at once on long values', { timeout: 20_000 }, () => {
  // Each of these takes a backtracking regular expression minutes (or forever) on these values.
  const long = 'a'.repeat(4096);
  assert.equal(likeMatcher(`${'%a'.repeat(30)}%b`)(long), false);
  assert.equal(likeMatcher(`${'%'.repeat(40)}é`)(long), false);
  assert.equal(likeMatcher(`%${'_'.repeat(50)}%${'_'.repeat(50)}%b`)(long), false);
  const where = compileWhere(`id LIKE '${'%'.repeat(12)}é'`);
  let matched = 0;
  for (let i = 0; i < 35_000; i++) if (where({ id: `fashion-mnist:test/${i}`, path: null, label: null })) matched++;
  assert.equal(matched, 0);
});

test('LanceDB (DataFusion) LIKE gives the same matches, non-BMP characters and _ included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-like-'));
  try {
    const ids = ['a😀b', 'aéb', 'ab', 'a__b', 'x%y', 'a😀😀b', 'é', '😀', 'abc', 'ABC'];
    const items: ItemMeta[] = ids.map((id) => ({ id, path: null, label: null, size: null, hash: null }));
    const dim = 8;
    await writeLanceIndex(
      join(dir, 'idx'),
      { items, dim, vectors: randomUnit(ids.length, dim, 3) },
      {
        precision: 'f32',
        exactBelow: 1000,
        embedder: { ...NO_EMBEDDER, dim },
        imageRoot: null,
        source: { kind: 'embeddings', detail: {} },
      },
    );
    const index = await openLanceIndex(join(dir, 'idx'));
    try {
      const q = randomUnit(1, dim, 9);
      for (const pattern of ['a_b', 'a__b', 'a%b', '_', '%😀%', 'a%', '%C', 'x%%y', '___']) {
        const where = `id LIKE '${pattern}'`;
        const pass = compileWhere(where);
        const want = items
          .filter(pass)
          .map((it) => it.id)
          .sort();
        const [hits] = await index.search([q], { k: ids.length, mode: 'float', where, exact: true });
        assert.deepEqual((hits ?? []).map((h) => h.id).sort(), want, where);
      }
    } finally {
      await index.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
