// `where` on an item's own fields (meta.NAME): the parser's literals and operators, the typed meaning of each
// test by hand, the refusals (comparisons on id/path/label, a bad name, a non-number after <), and the
// bounds of the fields a put may carry (checkItemFields).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileWhere, type FilterFields, parseWhere } from '../../src/search/filter.js';
import { checkItemFields, MAX_FIELDS } from '../../src/search/item-fields.js';
import { whereToSql } from '../../src/search/lancedb/where-sql.js';
import { UsageError } from '../../src/util/errors.js';

const items: FilterFields[] = [
  { id: 'a', path: null, label: 'x', meta: { color: 'red', price: 10, sale: true } },
  { id: 'b', path: null, label: 'x', meta: { color: 'blue', price: 30.5, sale: false } },
  { id: 'c', path: null, label: 'y', meta: { color: 'red', price: '12' } },
  { id: 'd', path: null, label: 'y', meta: { color: 10 } },
  { id: 'e', path: null, label: null },
];
const match = (where: string) =>
  items
    .filter(compileWhere(where))
    .map((it) => it.id)
    .join('');

test('typed tests: a string, a number and a boolean each match only their own type', () => {
  assert.equal(match("meta.color = 'red'"), 'ac');
  assert.equal(match('meta.color = 10'), 'd');
  assert.equal(match("meta.price = '12'"), 'c');
  assert.equal(match('meta.price = 12'), '');
  assert.equal(match('meta.price = 10.0'), 'a', 'numbers compare by value');
  assert.equal(match('meta.sale = TRUE'), 'a');
  assert.equal(match('meta.sale = false'), 'b');
  assert.equal(match("meta.sale = 'true'"), '');
});

test('comparisons take numbers and match numbers only; != matches missing fields and other types', () => {
  assert.equal(match('meta.price < 20'), 'a', "the string '12' is not a number");
  assert.equal(match('meta.price <= 10'), 'a');
  assert.equal(match('meta.price > 10'), 'b');
  assert.equal(match('meta.price >= 10 AND meta.price<31'), 'ab');
  assert.equal(match('meta.price > -1e3'), 'ab');
  assert.equal(match("meta.color != 'red'"), 'bde');
  assert.equal(match('meta.missing != 1'), 'abcde');
  assert.equal(match('meta.missing = 1'), '');
  assert.equal(match("meta.color IN ('blue', 10)"), 'bd');
  assert.equal(match("meta.color LIKE 'r%'"), 'ac');
  assert.equal(match("meta.color LIKE '1%'"), '', 'LIKE matches strings only');
  assert.equal(match("label = 'y' AND meta.color = 10"), 'd');
  assert.equal(match("meta.COLOR = 'red'"), '', 'field names are case-sensitive');
});

test('refusals name what is wrong', () => {
  for (const [where, why] of [
    ["label < 'x'", /label takes =, !=, IN or LIKE/],
    ["meta.price < '3'", /expected a number after meta.price </],
    ['meta.price = ', /expected a string, number or true\/false/],
    [`meta.${'x'.repeat(65)} = 1`, /a name of at most 64/],
    ['meta.a.b = 1', /expected =, !=, <, <=, >, >=, IN or LIKE after meta.a|unexpected/],
    ['meta.price = 1e999', /out of range/],
    ['id = 3', /expected a quoted string after id =/],
  ] as const) {
    assert.throws(
      () => parseWhere(where),
      (e: unknown) => e instanceof UsageError && why.test(e.message),
      where,
    );
  }
});

test('the SQL of meta tests (LanceDB), and constants for a table without the meta column', () => {
  assert.equal(whereToSql("meta.color = 'r''d'"), `json_extract(meta, '$.color') = '"r''d"'`);
  assert.equal(whereToSql('meta.price < 2.5'), `TRY_CAST(json_extract(meta, '$.price') AS DOUBLE) < 2.5`);
  assert.equal(whereToSql('meta.sale != true'), `(json_extract(meta, '$.sale') = 'true') IS NOT TRUE`);
  assert.equal(
    whereToSql("meta.c IN ('a', 1)"),
    `(json_extract(meta, '$.c') = '"a"' OR TRY_CAST(json_extract(meta, '$.c') AS DOUBLE) = 1)`,
  );
  assert.equal(
    whereToSql("meta.c LIKE 'a\\%'"),
    `(json_extract(meta, '$.c') LIKE '"%' AND json_get_string(meta, 'c') LIKE 'a\\\\%')`,
  );
  assert.equal(
    whereToSql("meta.c = 'a' AND meta.d != 1 AND label = 'x'", { hasMeta: false }),
    "false AND true AND label = 'x'",
  );
});

test('fields a put may carry: flat, named, bounded', () => {
  assert.deepEqual(checkItemFields({ a: 'x', b: 2, c: false }, 'meta'), { a: 'x', b: 2, c: false });
  for (const [value, why] of [
    [[1], /expected a JSON object/],
    [null, /expected a JSON object/],
    [{ 'a b': 1 }, /field name "a b" must be/],
    [{ '1a': 1 }, /must be/],
    [{ a: null }, /meta.a: expected a string, number or boolean, got null/],
    [{ a: { b: 1 } }, /got object/],
    [{ a: 'x'.repeat(1001) }, /at most 1000 characters/],
    [{ a: '\uD800' }, /lone surrogate/],
    [
      Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}`, 'x'.repeat(900)])),
      /at most 4096 characters as JSON/,
    ],
    [Object.fromEntries(Array.from({ length: MAX_FIELDS + 1 }, (_, i) => [`f${i}`, i])), /at most 32 fields/],
  ] as const) {
    const r = checkItemFields(value, 'meta');
    assert.ok(typeof r === 'string' && why.test(r), `${JSON.stringify(value).slice(0, 40)}: ${String(r)}`);
  }
});
