// The `where` filter on item metadata, the same small SQL-like syntax for every backend:
//   field = 'x'   field != 'x'   field IN ('a', 'b')   field LIKE 'shoes/%'   joined by AND
// with fields id, path and label; strings in single quotes ('' is a quote); LIKE's % is any run of
// characters and _ any one character. A null field (no label, no path) matches only !=.
//
// An item's own fields (put into a live index with `meta`) are tested as meta.NAME, with string, number or
// boolean literals: meta.color = 'red', meta.price < 20, meta.sale = true, meta.size IN (38, 39),
// meta.brand LIKE 'Ac%'. A test matches only a value of its literal's type: = and IN by equal value
// (numbers numerically), LIKE only strings, <, <=, >, >= only numbers; != matches where = does not (a
// missing field, or a value of another type, included).
import { UsageError } from '../util/errors.js';
import { excerpt } from '../util/excerpt.js';
import { likeMatcher } from './like.js';
import type { ItemMeta, MetaValue } from './types.js';

type Field = 'id' | 'path' | 'label';
export type WhereField = Field;
export type Comparison = '<' | '<=' | '>' | '>=';

/** One test of a meta field: `key` is NAME of meta.NAME. */
export type MetaTest = { field: 'meta'; key: string } & (
  | { op: '=' | '!='; value: MetaValue }
  | { op: 'in'; values: MetaValue[] }
  | { op: 'like'; matches: (value: string) => boolean; like: string }
  | { op: Comparison; value: number }
);

/** One test of a where expression; `like` keeps LIKE's pattern as written (for backends with SQL). */
export type WhereTest =
  | { op: '=' | '!='; field: Field; value: string }
  | { op: 'in'; field: Field; values: string[] }
  | { op: 'like'; field: Field; matches: (value: string) => boolean; like: string }
  | MetaTest;
type Test = WhereTest;

/** The fields a filter tests. */
export type FilterFields = Pick<ItemMeta, 'id' | 'path' | 'label' | 'meta'>;
export type ItemPredicate = (item: FilterFields) => boolean;

/** A meta field's name: what meta.NAME may say (and a put's `meta` may hold). */
export const META_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

type Token = { kind: 'word' | 'string' | 'number' | 'punct'; text: string };

const WORD = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?/;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;

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
    } else if (expr.startsWith('<=', i) || expr.startsWith('>=', i)) {
      tokens.push({ kind: 'punct', text: expr.slice(i, i + 2) });
      i += 2;
    } else if ('=(),<>'.includes(c)) {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else if (/[-\d.]/.test(c) && NUMBER.test(expr.slice(i))) {
      const m = NUMBER.exec(expr.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = WORD.exec(expr.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    } else throw bad(expr, `unexpected "${c}"`);
  }
  return tokens;
}

function bad(expr: string, problem: string): UsageError {
  return new UsageError(`where ${excerpt(expr)}: ${problem} (expected e.g. label = 'x' AND path LIKE 'shoes/%')`);
}

/** A literal: a quoted string, a number, or TRUE / FALSE; undefined for anything else. */
function literalOf(expr: string, t: Token | undefined): MetaValue | undefined {
  if (t?.kind === 'string') return t.text;
  if (t?.kind === 'number') {
    const n = Number(t.text);
    if (!Number.isFinite(n)) throw bad(expr, `the number ${excerpt(t.text, 40)} is out of range`);
    return n;
  }
  if (t?.kind === 'word' && /^(true|false)$/i.test(t.text)) return t.text.toLowerCase() === 'true';
  return undefined;
}

export function parseWhere(expr: string): Test[] {
  const tokens = tokenize(expr);
  let p = 0;
  const next = () => tokens[p++];
  const tests: Test[] = [];
  if (tokens.length === 0) throw bad(expr, 'empty filter');
  for (;;) {
    const f = next();
    const name = f?.kind === 'word' ? f.text : '';
    const key = /^meta\./i.test(name) ? name.slice(5) : null;
    if (key === null && !['id', 'path', 'label'].includes(name.toLowerCase())) {
      throw bad(expr, `expected a field (id, path, label, meta.NAME), got ${f ? excerpt(f.text, 40) : 'the end'}`);
    }
    if (key !== null && !META_KEY.test(key))
      throw bad(expr, `meta.${excerpt(key, 40)}: a name of at most 64 letters, digits or _`);
    const op = next();
    const opText = op?.kind === 'word' ? op.text.toUpperCase() : op?.text;
    tests.push(
      key === null ? plainTest(expr, name.toLowerCase() as Field, opText, next) : metaTest(expr, key, opText, next),
    );
    const t = next();
    if (t === undefined) return tests;
    if (t.kind !== 'word' || t.text.toUpperCase() !== 'AND')
      throw bad(expr, `expected AND, got ${excerpt(t.text, 40)}`);
  }
}

function inList<T>(expr: string, next: () => Token | undefined, value: (t: Token | undefined) => T | undefined): T[] {
  if (next()?.text !== '(') throw bad(expr, 'expected ( after IN');
  const values: T[] = [];
  for (;;) {
    const v = value(next());
    if (v === undefined) throw bad(expr, 'expected a literal in IN (...)');
    values.push(v);
    const sep = next();
    if (sep?.text === ')') return values;
    if (sep?.text !== ',') throw bad(expr, 'expected , or ) in IN (...)');
  }
}

function plainTest(expr: string, field: Field, opText: string | undefined, next: () => Token | undefined): Test {
  if (opText === '=' || opText === '!=') {
    const v = next();
    if (v?.kind !== 'string') throw bad(expr, `expected a quoted string after ${field} ${opText}`);
    return { op: opText, field, value: v.text };
  }
  if (opText === 'LIKE') {
    const v = next();
    if (v?.kind !== 'string') throw bad(expr, 'expected a quoted pattern after LIKE');
    return { op: 'like', field, matches: likeMatcher(v.text), like: v.text };
  }
  if (opText === 'IN') {
    const values = inList(expr, next, (t) => (t?.kind === 'string' ? t.text : undefined));
    return { op: 'in', field, values };
  }
  if (opText === '<' || opText === '<=' || opText === '>' || opText === '>=')
    throw bad(expr, `${field} takes =, !=, IN or LIKE (comparisons are for numbers in meta.NAME)`);
  throw bad(expr, `expected =, !=, IN or LIKE after ${field}`);
}

function metaTest(expr: string, key: string, opText: string | undefined, next: () => Token | undefined): MetaTest {
  const field = 'meta' as const;
  if (opText === '=' || opText === '!=') {
    const value = literalOf(expr, next());
    if (value === undefined) throw bad(expr, `expected a string, number or true/false after meta.${key} ${opText}`);
    return { field, key, op: opText, value };
  }
  if (opText === 'LIKE') {
    const v = next();
    if (v?.kind !== 'string') throw bad(expr, 'expected a quoted pattern after LIKE');
    return { field, key, op: 'like', matches: likeMatcher(v.text), like: v.text };
  }
  if (opText === 'IN') return { field, key, op: 'in', values: inList(expr, next, (t) => literalOf(expr, t)) };
  if (opText === '<' || opText === '<=' || opText === '>' || opText === '>=') {
    const value = literalOf(expr, next());
    if (typeof value !== 'number') throw bad(expr, `expected a number after meta.${key} ${opText}`);
    return { field, key, op: opText, value };
  }
  throw bad(expr, `expected =, !=, <, <=, >, >=, IN or LIKE after meta.${key}`);
}

function metaPasses(t: MetaTest, v: MetaValue | undefined): boolean {
  switch (t.op) {
    case '=':
      return v === t.value;
    case '!=':
      return v !== t.value;
    case 'in':
      return v !== undefined && t.values.includes(v);
    case 'like':
      return typeof v === 'string' && t.matches(v);
    case '<':
      return typeof v === 'number' && v < t.value;
    case '<=':
      return typeof v === 'number' && v <= t.value;
    case '>':
      return typeof v === 'number' && v > t.value;
    case '>=':
      return typeof v === 'number' && v >= t.value;
  }
}

/** A predicate for a where expression; a malformed expression is a UsageError. */
export function compileWhere(expr: string): ItemPredicate {
  const tests = parseWhere(expr);
  return (item) =>
    tests.every((t) => {
      if (t.field === 'meta')
        return metaPasses(t, item.meta && Object.hasOwn(item.meta, t.key) ? item.meta[t.key] : undefined);
      const v = item[t.field];
      if (v === null) return t.op === '!=';
      if (t.op === '=') return v === t.value;
      if (t.op === '!=') return v !== t.value;
      if (t.op === 'in') return t.values.includes(v);
      if (t.op === 'like') return t.matches(v);
      return false;
    });
}
