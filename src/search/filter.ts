// The `where` filter on item metadata, the same small SQL-like syntax for every backend:
//   field = 'x'   field != 'x'   field IN ('a', 'b')   field LIKE 'shoes/%'   joined by AND
// with fields id, path and label; strings in single quotes ('' is a quote); LIKE's % is any run of
// characters and _ any one character. A null field (no label, no path) matches only !=.
import { UsageError } from '../util/errors.js';
import { excerpt } from '../util/excerpt.js';
import { likeMatcher } from './like.js';
import type { ItemMeta } from './types.js';

type Field = 'id' | 'path' | 'label';
export type WhereField = Field;
/** One test of a where expression; `like` keeps LIKE's pattern as written (for backends with SQL). */
export type WhereTest =
  | { op: '=' | '!='; field: Field; value: string }
  | { op: 'in'; field: Field; values: string[] }
  | { op: 'like'; field: Field; matches: (value: string) => boolean; like: string };
type Test = WhereTest;

/** The fields a filter tests. */
export type FilterFields = Pick<ItemMeta, 'id' | 'path' | 'label'>;
export type ItemPredicate = (item: FilterFields) => boolean;

type Token = { kind: 'word' | 'string' | 'punct'; text: string };

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i] as string;
    if (/\s/.test(c)) i++;
    else if (c === "'") {
      let text = '';
      i++;
      for (;;) {
        if (i >= expr.length) throw bad(expr, 'unterminated string');
        if (expr[i] === "'") {
          if (expr[i + 1] === "'") {
            text += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += expr[i++];
      }
      tokens.push({ kind: 'string', text });
    } else if (expr.startsWith('!=', i) || expr.startsWith('<>', i)) {
      tokens.push({ kind: 'punct', text: '!=' });
      i += 2;
    } else if ('=(),'.includes(c)) {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expr.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    } else throw bad(expr, `unexpected "${c}"`);
  }
  return tokens;
}

function bad(expr: string, problem: string): UsageError {
  return new UsageError(`where ${excerpt(expr)}: ${problem} (expected e.g. label = 'x' AND path LIKE 'shoes/%')`);
}

export function parseWhere(expr: string): Test[] {
  const tokens = tokenize(expr);
  let p = 0;
  const next = () => tokens[p++];
  const tests: Test[] = [];
  if (tokens.length === 0) throw bad(expr, 'empty filter');
  for (;;) {
    const f = next();
    if (f?.kind !== 'word' || !['id', 'path', 'label'].includes(f.text.toLowerCase())) {
      throw bad(expr, `expected a field (id, path, label), got ${f ? excerpt(f.text, 40) : 'the end'}`);
    }
    const field = f.text.toLowerCase() as Field;
    const op = next();
    const opText = op?.kind === 'word' ? op.text.toUpperCase() : op?.text;
    if (opText === '=' || opText === '!=') {
      const v = next();
      if (v?.kind !== 'string') throw bad(expr, `expected a quoted string after ${opText}`);
      tests.push({ op: opText, field, value: v.text });
    } else if (opText === 'LIKE') {
      const v = next();
      if (v?.kind !== 'string') throw bad(expr, 'expected a quoted pattern after LIKE');
      tests.push({ op: 'like', field, matches: likeMatcher(v.text), like: v.text });
    } else if (opText === 'IN') {
      if (next()?.text !== '(') throw bad(expr, 'expected ( after IN');
      const values: string[] = [];
      for (;;) {
        const v = next();
        if (v?.kind !== 'string') throw bad(expr, 'expected a quoted string in IN (...)');
        values.push(v.text);
        const sep = next();
        if (sep?.text === ')') break;
        if (sep?.text !== ',') throw bad(expr, 'expected , or ) in IN (...)');
      }
      tests.push({ op: 'in', field, values });
    } else throw bad(expr, `expected =, !=, IN or LIKE after ${field}`);
    const t = next();
    if (t === undefined) return tests;
    if (t.kind !== 'word' || t.text.toUpperCase() !== 'AND')
      throw bad(expr, `expected AND, got ${excerpt(t.text, 40)}`);
  }
}

/** A predicate for a where expression; a malformed expression is a UsageError. */
export function compileWhere(expr: string): ItemPredicate {
  const tests = parseWhere(expr);
  return (item) =>
    tests.every((t) => {
      const v = item[t.field];
      if (v === null) return t.op === '!=';
      if (t.op === '=') return v === t.value;
      if (t.op === '!=') return v !== t.value;
      if (t.op === 'in') return t.values.includes(v);
      if (t.op === 'like') return t.matches(v);
      return false;
    });
}
