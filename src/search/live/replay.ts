// The content of a live index as of its log's last record, for what reads an index whole (an incremental
// `index build` reusing vectors, `index info`): the base's items with those the log replaced or deleted
// left out, then the items the log put, in the order of their last put. And the live item count alone, from
// the log and the base's rows of the ids it names (no vectors read).

import type { StoredContent } from '../backend.js';
import { packCodes } from '../binary-codes.js';
import type { Manifest } from '../manifest.js';
import type { ItemMeta } from '../types.js';
import { Delta } from './delta.js';
import { readWal } from './wal.js';
import type { LiveOp } from './wal-format.js';

/** The log's records after the manifest's generation (none for an index never written live). */
export function logAfter(dir: string, m: Manifest): ReturnType<typeof readWal> {
  if (m.wal === undefined) return { ops: [], lastSeq: 0, segments: [], tornBytes: 0 };
  return readWal(dir, m.wal.appliedSeq, m.dim);
}

/** `base` with the log's writes applied (vectors of put items at unit length, as the log holds them). */
export function withLog(base: StoredContent, dir: string): StoredContent {
  const log = logAfter(dir, base.manifest);
  if (log.ops.length === 0) return base;
  const { dim, codeBytes } = base.manifest;
  const rowOf = new Map(base.items.map((it, i) => [it.id, i]));
  const delta = new Delta({ n: base.items.length, rowOf: (id) => rowOf.get(id) });
  delta.apply(log.ops);
  const kept = base.items.map((_, i) => i).filter((i) => !delta.hidden.has(i));
  const puts = [...delta.entries].sort((a, b) => a.seq - b.seq);
  const n = kept.length + puts.length;
  const items: ItemMeta[] = [];
  const vectors = new Float32Array(n * dim);
  const codes = new Uint8Array(n * codeBytes);
  kept.forEach((r, i) => {
    items.push(base.items[r] as ItemMeta);
    vectors.set(base.vectors.subarray(r * dim, (r + 1) * dim), i * dim);
    codes.set(base.codes.subarray(r * codeBytes, (r + 1) * codeBytes), i * codeBytes);
  });
  puts.forEach((e, j) => {
    const i = kept.length + j;
    items.push(e.item);
    vectors.set(e.vector, i * dim);
    codes.set(packCodes(e.vector, dim), i * codeBytes);
  });
  return { manifest: base.manifest, items, vectors, codes };
}

/**
 * The live items after the log's writes: the generation's count, less the base rows the log replaced or
 * deleted, plus the items it put that are still there; the same Delta the full replay builds, over the base
 * rows of the ids the log names only (`rowsOf`: the backend's, which reads no vectors).
 */
export async function liveItemCount(
  m: Manifest,
  ops: readonly LiveOp[],
  rowsOf: (ids: ReadonlySet<string>) => Promise<ReadonlyMap<string, number>>,
): Promise<number> {
  const named = new Set(ops.map((op) => (op.kind === 'put' ? op.item.id : op.id)));
  const rows = await rowsOf(named);
  const delta = new Delta({ n: m.items, rowOf: (id) => rows.get(id) });
  delta.apply(ops);
  return delta.count;
}
