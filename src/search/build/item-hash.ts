// Size and SHA-256 of each item's content, what an incremental build compares: the file's bytes, or the
// raw pixels of in-memory data sets (MNIST-like). Items without content (row numbers) get null.
import { statSync } from 'node:fs';
import type { Dataset } from '../../data/types.js';
import { createProgress } from '../../util/progress.js';
import { sha256File, sha256Hex } from '../sha256.js';
import type { ItemMeta } from '../types.js';
import type { SourceItem } from './sources.js';

/** Hashes on the main thread, yielding every YIELD_MS so that signals (Ctrl-C releases the writer lock) are handled. */
const YIELD_MS = 50;

export async function hashItems(
  items: readonly SourceItem[],
  dataset: Dataset | null,
  o: { silent?: boolean } = {},
): Promise<ItemMeta[]> {
  const progress = createProgress({ label: 'hashing', total: items.length, silent: o.silent || items.length < 2000 });
  const out: ItemMeta[] = [];
  let yielded = Date.now();
  for (const [i, it] of items.entries()) {
    let size: number | null = null;
    let hash: string | null = null;
    if (it.sample && dataset?.readRaw) {
      const raw = dataset.readRaw(it.sample);
      size = raw.data.length;
      hash = sha256Hex(raw.data);
    } else if (it.sample) {
      try {
        size = statSync(it.sample.path).size;
        hash = sha256File(it.sample.path);
      } catch {
        // Unreadable: left without a hash, so it is embedded (and reported as a bad image) every time.
      }
    }
    if (i % 256 === 0) progress.update(i);
    out.push({ id: it.id, path: it.path, label: it.label, size, hash });
    if (Date.now() - yielded > YIELD_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      yielded = Date.now();
    }
  }
  progress.update(items.length);
  progress.stop();
  return out;
}
