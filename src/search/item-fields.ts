// An item's own fields (`meta` of a live put): a flat JSON object of string, number and boolean values
// under names that `where` can test as meta.NAME. Bounded (names, count, string length), so that a put
// cannot make an item large, and checked the same way wherever fields come from (an HTTP body, a CLI
// file, the write-ahead log, items.jsonl, the Lance table).
import { excerpt } from '../util/excerpt.js';
import { META_KEY } from './filter.js';
import type { ItemFields } from './types.js';

export const MAX_FIELDS = 32;
export const MAX_FIELD_CHARS = 1000;
/** Bound on all of an item's fields as JSON (what a multipart field may carry, 4 KB). */
export const MAX_FIELDS_JSON = 4096;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The fields of `value`, checked; a string naming the first problem (prefixed by `what`) otherwise. */
export function checkItemFields(value: unknown, what: string): ItemFields | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return `${what}: expected a JSON object of string, number or boolean fields`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_FIELDS) return `${what}: at most ${MAX_FIELDS} fields, got ${entries.length}`;
  const out: ItemFields = {};
  for (const [k, v] of entries) {
    if (!META_KEY.test(k))
      return `${what}: field name ${excerpt(k, 40)} must be 1 to 64 letters, digits or _ (not starting with a digit)`;
    if (typeof v === 'string') {
      if (v.length > MAX_FIELD_CHARS) return `${what}.${k}: at most ${MAX_FIELD_CHARS} characters`;
      if (LONE_SURROGATE.test(v)) return `${what}.${k}: not valid Unicode (a lone surrogate)`;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `${what}.${k}: expected a finite number`;
    } else if (typeof v !== 'boolean')
      return `${what}.${k}: expected a string, number or boolean, got ${v === null ? 'null' : typeof v}`;
    out[k] = v as string | number | boolean;
  }
  if (JSON.stringify(out).length > MAX_FIELDS_JSON) return `${what}: at most ${MAX_FIELDS_JSON} characters as JSON`;
  return out;
}
