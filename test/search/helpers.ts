// Seeded random unit vectors, small indexes of either backend, live items and the exact answer, for the search tests.

import { writeLanceIndex } from '../../src/search/lancedb/write.js';
import { normaliseRows } from '../../src/search/precision.js';
import type { EmbedderIdentity, IndexBackend, ItemMeta, SearchHit, VectorPrecision } from '../../src/search/types.js';
import { writeUsearchIndex } from '../../src/search/usearch/write.js';

export function randomUnit(n: number, dim: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return normaliseRows(Float32Array.from({ length: n * dim }, rnd), dim);
}

export const NO_EMBEDDER: EmbedderIdentity = {
  checkpointSha256: null,
  checkpointPath: null,
  arch: null,
  dim: 0,
  input: null,
  resize: 0,
  crop: 0,
};

export function itemsOf(n: number, labels = 3): ItemMeta[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `item${i}`,
    path: `c${i % labels}/item${i}.png`,
    label: `c${i % labels}`,
    size: null,
    hash: null,
  }));
}

export function write(
  dir: string,
  vectors: Float32Array,
  dim: number,
  o: { precision?: VectorPrecision; exactBelow?: number; labels?: number } = {},
) {
  const n = vectors.length / dim;
  return writeUsearchIndex(
    dir,
    { items: itemsOf(n, o.labels), dim, vectors },
    {
      precision: o.precision ?? 'f32',
      exactBelow: o.exactBelow ?? 50_000,
      embedder: { ...NO_EMBEDDER, dim },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
}

/** `write` for either backend: rows `item0..` of the vectors, f32, exact below 50,000 items. */
export async function writeBackend(backend: IndexBackend, dir: string, vectors: Float32Array, dim: number) {
  if (backend === 'usearch') {
    await write(dir, vectors, dim);
    return;
  }
  await writeLanceIndex(
    dir,
    { items: itemsOf(vectors.length / dim), dim, vectors },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: { ...NO_EMBEDDER, dim },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
}

/** An item put into a live index by the tests: labelled 'new', no image, with `meta` when given. */
export const liveItem = (id: string, meta?: ItemMeta['meta']): ItemMeta => ({
  id,
  path: null,
  label: 'new',
  size: null,
  hash: null,
  ...(meta ? { meta } : {}),
});

/** The ids of a search's hits, in order. */
export const idsOf = (hits: SearchHit[] | undefined): string[] => (hits ?? []).map((h) => h.id);

/** Exact answer over a plain list of (id, vector): the reference a live index must equal. */
export function exactIds(items: Map<string, Float32Array>, q: Float32Array, k: number): string[] {
  return [...items.entries()]
    .map(([id, v]) => ({ id, s: v.reduce((a, x, j) => a + x * (q[j] as number), 0) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((h) => h.id);
}
