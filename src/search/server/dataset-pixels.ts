// Pictures of items that have no image file: the samples of in-memory data sets (fashion-mnist, mnist),
// whose pixels the data set itself holds. The manifest's source (data set, root, split) says where they
// came from; the data set is opened again once, at start-up, and only its samples that are indexed items
// can be read, checked against the item's content hash (a changed data set is not served as the old one).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../data/formats/index.js';
import type { RawImage, Sample } from '../../data/types.js';
import { MANIFEST_NAME, readManifest } from '../manifest.js';
import { sha256Hex } from '../sha256.js';
import type { ItemMeta } from '../types.js';

export interface DatasetPixels {
  /** "fashion-mnist test", for messages. */
  readonly description: string;
  /** The item's pixels, or null when the data set has no sample of that id or its content changed. */
  raw(item: ItemMeta): RawImage | null;
}

/**
 * The pixels of an index built from an in-memory data set split, or null when its items are files or
 * vectors. A data set that cannot be opened again is an error for the caller to report.
 */
export function openDatasetPixels(dir: string): DatasetPixels | null {
  if (!existsSync(join(dir, MANIFEST_NAME))) return null;
  const m = readManifest(dir);
  const { kind, detail } = m.source;
  if (kind !== 'dataset' || m.imageRoot !== null || !detail.dataset || !detail.split) return null;
  const dataset = loadDataset(detail.dataset, detail.root ?? '');
  const readRaw = dataset.readRaw;
  if (!readRaw) return null;
  const samples = new Map<string, Sample>();
  for (const s of dataset.splits[detail.split as keyof typeof dataset.splits] ?? []) samples.set(s.path, s);
  return {
    description: `${detail.dataset} ${detail.split}`,
    raw(item) {
      const sample = samples.get(item.id);
      if (!sample) return null;
      const raw = readRaw(sample);
      if (item.hash !== null && sha256Hex(raw.data) !== item.hash) return null;
      return raw;
    },
  };
}
