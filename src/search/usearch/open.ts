// Opens a usearch index folder as a VisualSearchIndex: verifies every file against the manifest, loads the
// metadata and vectors, and hands search (filters included) to a supervised engine worker thread.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OpenIndexOptions } from '../backend.js';
import { parseWhere } from '../filter.js';
import { imageFileUnder } from '../image-file.js';
import { fileOf, type Manifest } from '../manifest.js';
import { dequantize } from '../precision.js';
import { checkedRequest, unitQueries } from '../search-checks.js';
import type { EmbedderIdentity, IndexStats, ItemMeta, SearchHit, VisualSearchIndex } from '../types.js';
import type { EngineData } from './engine.js';
import { EngineClient } from './engine-client.js';
import type { HnswSpec } from './hnsw.js';
import { readIndexArrays } from './read-content.js';

function hnswOf(dir: string, m: Manifest, role: 'hnsw-float' | 'hnsw-binary'): EngineData['hnswFloat'] {
  const info = m.hnsw.find((h) => h.role === role);
  const file = fileOf(m, role);
  if (!info || !file) return null;
  const spec: HnswSpec = {
    metric: info.metric,
    quantization: info.quantization as HnswSpec['quantization'],
    dimensions: info.dimensions,
    params: { connectivity: info.connectivity, expansionAdd: info.expansionAdd, expansionSearch: info.expansionSearch },
  };
  return { spec, path: join(dir, file.name), orphans: Int32Array.from(info.orphans ?? []) };
}

export async function openUsearchIndex(dirIn: string, o: OpenIndexOptions = {}): Promise<VisualSearchIndex> {
  const dir = resolve(dirIn);
  // The worker starts first: it loads libtorch while this thread reads and verifies the files.
  const engine = new EngineClient({ log: o.log });
  let a: ReturnType<typeof readIndexArrays>;
  try {
    a = readIndexArrays(dir);
  } catch (e) {
    await engine.close();
    throw e;
  }
  const m = a.manifest;
  const n = m.items;
  const dim = m.dim;
  const shared = new Float32Array(new SharedArrayBuffer(Math.max(4, n * dim * 4)), 0, n * dim);
  dequantize(a.vectorBytes, a.scales, n, dim, m.precision, { renormalise: true, into: shared });
  const rowOf = new Map(a.items.map((it, i) => [it.id, i]));
  try {
    await engine.open({
      n,
      dim,
      vectors: shared,
      codes: a.codes,
      hnswFloat: hnswOf(dir, m, 'hnsw-float'),
      hnswBinary: hnswOf(dir, m, 'hnsw-binary'),
      items: a.items.map(({ id, path, label }) => ({ id, path, label })),
    });
  } catch (e) {
    await engine.close();
    throw e;
  }
  const bytesOnDisk = m.files.reduce((s, f) => s + f.bytes, 0) + readFileSync(join(dir, 'manifest.json')).length;
  const imageRoot = m.imageRoot === null ? null : resolve(m.imageRoot);
  const embedder: EmbedderIdentity = m.embedder;

  const hit = (row: number, score: number): SearchHit => {
    const it = a.items[row] as ItemMeta;
    return { id: it.id, path: it.path, label: it.label, score };
  };

  const item = (id: string): ItemMeta | undefined => {
    const r = rowOf.get(id);
    return r === undefined ? undefined : { ...(a.items[r] as ItemMeta) };
  };

  return {
    dir,
    embedder,
    imageRoot,
    stats(): IndexStats {
      return {
        items: n,
        dim,
        precision: m.precision,
        backend: 'usearch',
        generation: m.generation,
        hnsw: {
          float: m.hnsw.some((h) => h.role === 'hnsw-float'),
          binary: m.hnsw.some((h) => h.role === 'hnsw-binary'),
        },
        bytesOnDisk,
      };
    },
    item,
    vectorOf(id) {
      const r = rowOf.get(id);
      return r === undefined ? undefined : shared.slice(r * dim, (r + 1) * dim);
    },
    async search(queries, request) {
      const { k, mode, oversample } = checkedRequest(request);
      const flat = new Float32Array(queries.length * dim);
      for (const [i, u] of unitQueries(queries, dim).entries()) flat.set(u, i * dim);
      const where = request.where !== undefined && request.where.trim() !== '' ? request.where : null;
      // A malformed filter is refused here, before the worker is asked (the worker scans the items).
      if (where !== null) parseWhere(where);
      if (queries.length === 0) return [];
      const hits = await engine.search(flat, queries.length, {
        mode,
        k,
        exact: request.exact === true,
        oversample,
        where,
        deadline: request.timeoutMs === undefined ? null : Date.now() + request.timeoutMs,
      });
      return hits.map((h) => Array.from(h.rows, (row, j) => hit(row, h.scores[j] as number)));
    },
    imageFile(id) {
      const it = item(id);
      return it ? imageFileUnder(imageRoot, it.path) : null;
    },
    health: () => engine.health(),
    close: () => engine.close(),
  };
}
