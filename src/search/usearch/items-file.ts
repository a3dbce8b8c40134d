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
