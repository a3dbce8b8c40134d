// items.jsonl: one ItemMeta per line, in the order of the vector rows.
import { FormatError } from '../../util/errors.js';
import type { ItemMeta } from '../types.js';

export function serializeItems(items: readonly ItemMeta[]): string {
  return items
    .map((it) => `${JSON.stringify({ id: it.id, path: it.path, label: it.label, size: it.size, hash: it.hash })}\n`)
    .join('');
}

const nullableString = (v: unknown) => v === null || typeof v === 'string';

export function parseItems(text: string, source: string, expected: number): ItemMeta[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== expected)
    throw new FormatError(source, `holds ${lines.length} items, the manifest says ${expected}`);
  const seen = new Set<string>();
  return lines.map((line, i) => {
    let v: ItemMeta;
    try {
      v = JSON.parse(line) as ItemMeta;
    } catch {
      throw new FormatError(source, `line ${i + 1} is not JSON`);
    }
    const ok =
      v !== null &&
      typeof v.id === 'string' &&
      nullableString(v.path) &&
      nullableString(v.label) &&
      nullableString(v.hash) &&
      (v.size === null || Number.isInteger(v.size));
    if (!ok) throw new FormatError(source, `line ${i + 1}: expected {"id","path","label","size","hash"}`);
    if (seen.has(v.id)) throw new FormatError(source, `line ${i + 1}: duplicate id "${v.id}"`);
    seen.add(v.id);
    return { id: v.id, path: v.path, label: v.label, size: v.size, hash: v.hash };
  });
}
