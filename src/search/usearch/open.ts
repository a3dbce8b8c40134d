// Opens a usearch index folder as a VisualSearchIndex: verifies every file against the manifest, loads the
// metadata and vectors, and hands search (filters included) to a supervised engine worker thread.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError, UsageError } from '../../util/errors.js';
import type { OpenIndexOptions } from '../backend.js';
import { parseWhere } from '../filter.js';
import { fileOf, type Manifest } from '../manifest.js';
import { dequantize } from '../precision.js';
import { DEFAULT_OVERSAMPLE } from '../search-checks.js';
import type { EmbedderIdentity, IndexStats, ItemMeta, SearchHit, SearchMode, VisualSearchIndex } from '../types.js';
import type { EngineData } from './engine.js';
import { EngineClient } from './engine-client.js';
import type { HnswSpec } from './hnsw.js';
import { readIndexArrays } from './read-content.js';

const MODES: readonly SearchMode[] = ['float', 'binary', 'rerank'];

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
  const a = readIndexArrays(dir);
  const m = a.manifest;
  const n = m.items;
  const dim = m.dim;
  const shared = new Float32Array(new SharedArrayBuffer(Math.max(4, n * dim * 4)), 0, n * dim);
  dequantize(a.vectorBytes, a.scales, n, dim, m.precision, { renormalise: true, into: shared });
  const rowOf = new Map(a.items.map((it, i) => [it.id, i]));
  const engine = new EngineClient({ log: o.log });
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
      const { k, mode } = request;
      if (!Number.isInteger(k) || k < 1) throw new UsageError(`k: expected a positive integer, got ${k}`);
      if (!MODES.includes(mode)) throw new UsageError(`mode: expected float, binary or rerank, got "${mode}"`);
      const oversample = request.oversample ?? DEFAULT_OVERSAMPLE;
      if (!Number.isInteger(oversample) || oversample < 1)
        throw new UsageError(`oversample: expected a positive integer, got ${oversample}`);
      const flat = new Float32Array(queries.length * dim);
      queries.forEach((q, i) => {
        if (q.length !== dim) throw new InputError(`query ${i + 1} has ${q.length} values, the index's vectors ${dim}`);
        let ss = 0;
        for (const v of q) ss += v * v;
        if (!(ss > 0) || !Number.isFinite(ss)) throw new InputError(`query ${i + 1} is a zero or non-finite vector`);
        const inv = 1 / Math.sqrt(ss);
        for (let j = 0; j < dim; j++) flat[i * dim + j] = (q[j] as number) * inv;
      });
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
      if (!it || it.path === null || imageRoot === null) return null;
      if (isAbsolute(it.path)) return null;
      const full = resolve(imageRoot, it.path);
      if (!existsSync(full)) return null;
      const realRoot = realpathSync(imageRoot);
      const real = realpathSync(full);
      const rel = relative(realRoot, real);
      if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return null;
      return real;
    },
    health: () => engine.health(),
    close: () => engine.close(),
  };
}
