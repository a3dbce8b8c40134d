// Our `where` filter (src/search/filter.ts: field = 'x', !=, IN, LIKE, joined by AND over id, path, label,
// and meta.NAME with string, number and boolean literals and numeric comparisons) as a LanceDB (DataFusion)
// SQL predicate with the same meaning. Bridged here:
// - SQL's `label != 'x'` is unknown (so false) on a null label while ours matches it, so != becomes
//   `(label IS NULL OR label <> 'x')`;
// - Lance's LIKE takes \ as an escape character while ours has none, so a literal \ is doubled;
// - meta is a JSON column (Lance's JSON type): json_extract(meta, '$.NAME') is the value as JSON text, so
//   a string test compares it with the JSON of the string (typed: the number 10 is not the string '10'),
//   a number test casts it (TRY_CAST: a string value's quotes make it NULL, so strings never compare as
//   numbers), a boolean test compares with 'true' / 'false'; LIKE reads the string itself
//   (json_get_string) only where the JSON is a string; != is `(=) IS NOT TRUE` (missing fields and other
//   types match, as ours). A table without the meta column (built before any live write) has no fields:
//   each meta test is then the constant it is on an item without them.
// Parsing (and its errors) is filter.ts's; LIKE's pattern as written is its `like`.
import { type MetaTest, parseWhere } from '../filter.js';
import type { MetaValue } from '../types.js';

const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const likeQuote = (s: string): string => quote(s.replaceAll('\\', '\\\\'));

/** A finite number as an SQL literal. */
const numberSql = (n: number): string => (Object.is(n, -0) ? '0' : String(n));

function metaEquals(key: string, v: MetaValue): string {
  const json = `json_extract(meta, '$.${key}')`;
  if (typeof v === 'number') return `TRY_CAST(${json} AS DOUBLE) = ${numberSql(v)}`;
  return `${json} = ${quote(JSON.stringify(v))}`;
}

/** What a meta test is on an item without fields (a table without the meta column). */
function metaWithoutFields(t: MetaTest): string {
  return t.op === '!=' ? 'true' : 'false';
}

function metaSql(t: MetaTest, hasMeta: boolean): string {
  if (!hasMeta) return metaWithoutFields(t);
  const json = `json_extract(meta, '$.${t.key}')`;
  switch (t.op) {
    case '=':
      return metaEquals(t.key, t.value);
    case '!=':
      return `(${metaEquals(t.key, t.value)}) IS NOT TRUE`;
    case 'in':
      return `(${t.values.map((v) => metaEquals(t.key, v)).join(' OR ')})`;
    case 'like':
      return `(${json} LIKE '"%' AND json_get_string(meta, ${quote(t.key)}) LIKE ${likeQuote(t.like)})`;
    default:
      return `TRY_CAST(${json} AS DOUBLE) ${t.op} ${numberSql(t.value)}`;
  }
}

/**
 * The SQL predicate for a where expression; throws filter.ts's UsageError on a malformed one. `hasMeta`:
 * whether the table has the meta column (default true).
 */
export function whereToSql(expr: string, o: { hasMeta?: boolean } = {}): string {
  const hasMeta = o.hasMeta ?? true;
  return parseWhere(expr)
    .map((t) => {
      if (t.field === 'meta') return metaSql(t, hasMeta);
      const col = t.field;
      if (t.op === '=') return `${col} = ${quote(t.value)}`;
      if (t.op === '!=') return `(${col} IS NULL OR ${col} <> ${quote(t.value)})`;
      if (t.op === 'in') return `${col} IN (${t.values.map(quote).join(', ')})`;
      if (t.op !== 'like') throw new Error(`whereToSql: unknown test ${t.op}`);
      return `${col} LIKE ${likeQuote(t.like)}`;
    })
    .join(' AND ');
}
