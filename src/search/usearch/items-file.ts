// items.jsonl: one ItemMeta per line, in the order of the vector rows. Items put into a live index may also
// carry "meta" (their fields) and "stored": true (their image is in the index folder, IDX/files/).
import { FormatError } from '../../util/errors.js';
import { checkItemFields } from '../item-fields.js';
import type { ItemMeta } from '../types.js';

/** One item as its JSON line's object (the optional keys only when set). */
export function itemRecord(it: ItemMeta): Record<string, unknown> {
  return {
    id: it.id,
    path: it.path,
    label: it.label,
    size: it.size,
    hash: it.hash,
    ...(it.meta !== undefined ? { meta: it.meta } : {}),
    ...(it.stored ? { stored: true } : {}),
  };
}

export function serializeItems(items: readonly ItemMeta[]): string {
  return items.map((it) => `${JSON.stringify(itemRecord(it))}\n`).join('');
}

const nullableString = (v: unknown) => v === null || typeof v === 'string';

/** An item from a parsed JSON object, or a string naming what is wrong with it. */
export function itemFromRecord(v: unknown): ItemMeta | string {
  const r = v as Partial<Record<keyof ItemMeta, unknown>> | null;
  const ok =
    r !== null &&
    typeof r === 'object' &&
    typeof r.id === 'string' &&
    nullableString(r.path) &&
    nullableString(r.label) &&
    nullableString(r.hash) &&
    (r.size === null || Number.isInteger(r.size)) &&
    (r.stored === undefined || r.stored === true);
  if (!ok) return 'expected {"id","path","label","size","hash"}';
  const item: ItemMeta = {
    id: r.id as string,
    path: r.path as string | null,
    label: r.label as string | null,
    size: r.size as number | null,
    hash: r.hash as string | null,
  };
  if (r.meta !== undefined) {
    const meta = checkItemFields(r.meta, 'meta');
    if (typeof meta === 'string') return meta;
    item.meta = meta;
  }
  if (r.stored === true) item.stored = true;
  return item;
}

export function parseItems(text: string, source: string, expected: number): ItemMeta[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== expected)
    throw new FormatError(source, `holds ${lines.length} items, the manifest says ${expected}`);
  const seen = new Set<string>();
  return lines.map((line, i) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new FormatError(source, `line ${i + 1} is not JSON`);
    }
    const item = itemFromRecord(v);
    if (typeof item === 'string') throw new FormatError(source, `line ${i + 1}: ${item}`);
    if (seen.has(item.id)) throw new FormatError(source, `line ${i + 1}: duplicate id "${item.id}"`);
    seen.add(item.id);
    return item;
  });
}

const ID_PREFIX = '{"id":';
const AFTER_ID = ',"path":';

/**
 * The rows (line numbers) of those of `ids` that an items file holds, without parsing its lines: itemRecord
 * writes the id first, as JSON, then "path", and a quote inside the id is escaped, so the id's JSON text
 * ends at the first `,"path":`. A line of another form is parsed whole.
 */
export function rowsOfIds(text: string, ids: ReadonlySet<string>): Map<string, number> {
  const found = new Map<string, number>();
  if (ids.size === 0) return found;
  const wanted = new Map(Array.from(ids, (id) => [JSON.stringify(id), id]));
  let row = 0;
  for (let at = 0; at < text.length; row++) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const stop = text.startsWith(ID_PREFIX, at) ? text.indexOf(AFTER_ID, at) : -1;
    if (stop > 0 && stop < end) {
      const id = wanted.get(text.slice(at + ID_PREFIX.length, stop));
      if (id !== undefined) found.set(id, row);
    } else {
      const id = (JSON.parse(text.slice(at, end)) as { id?: unknown }).id;
      if (typeof id === 'string' && ids.has(id)) found.set(id, row);
    }
    at = end + 1;
  }
  return found;
}
