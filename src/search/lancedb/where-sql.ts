// Our `where` filter (src/search/filter.ts: field = 'x', !=, IN, LIKE, joined by AND over id, path, label)
// as a LanceDB (DataFusion) SQL predicate with the same meaning. Two differences are bridged here: SQL's
// `label != 'x'` is unknown (so false) on a null label while ours matches it, so != becomes
// `(label IS NULL OR label <> 'x')`; and Lance's LIKE takes \ as an escape character while ours has none,
// so a literal \ is doubled. Parsing (and its errors) is filter.ts's; LIKE's pattern as written is its `like`.
import { parseWhere } from '../filter.js';

const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The SQL predicate for a where expression; throws filter.ts's UsageError on a malformed one. */
export function whereToSql(expr: string): string {
  return parseWhere(expr)
    .map((t) => {
      const col = t.field;
      if (t.op === '=') return `${col} = ${quote(t.value)}`;
      if (t.op === '!=') return `(${col} IS NULL OR ${col} <> ${quote(t.value)})`;
      if (t.op === 'in') return `${col} IN (${t.values.map(quote).join(', ')})`;
      if (t.op !== 'like') throw new Error(`whereToSql: unknown test ${t.op}`);
      return `${col} LIKE ${quote(t.like.replaceAll('\\', '\\\\'))}`;
    })
    .join(' AND ');
}
