// Seeded random unit vectors and a writeUsearchIndex call with defaults, for the search tests.

import { writeLanceIndex } from '../../src/search/lancedb/write.js';
import { normaliseRows } from '../../src/search/precision.js';
import type { EmbedderIdentity, IndexBackend, ItemMeta, VectorPrecision } from '../../src/search/types.js';
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
