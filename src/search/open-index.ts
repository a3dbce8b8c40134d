// Opens an index folder as a VisualSearchIndex: verifies every file against the manifest, loads the
// metadata and vectors, and hands search (filters included) to a supervised engine worker thread.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { FormatError, InputError, UsageError } from '../util/errors.js';
import type { EngineData } from './engine.js';
import { EngineClient } from './engine-client.js';
import { parseWhere } from './filter.js';
import type { HnswSpec } from './hnsw.js';
import { parseItems } from './items-file.js';
import { isLanceIndex } from './lancedb/layout.js';
import { openLanceIndex } from './lancedb/open.js';
import { type DataFile, fileOf, type Manifest, readManifest } from './manifest.js';
import { bytesPerValue, dequantize } from './precision.js';
import type { EmbedderIdentity, IndexStats, ItemMeta, SearchHit, SearchMode, VisualSearchIndex } from './types.js';
import { verifyFiles } from './verify.js';

export const DEFAULT_OVERSAMPLE = 4;
const MODES: readonly SearchMode[] = ['float', 'binary', 'rerank'];

/** The raw arrays of an index (verified), for the index itself and for incremental rebuilds. */
export interface IndexArrays {
  manifest: Manifest;
  items: ItemMeta[];
  /** Stored bytes of the vectors (and i8 scales), as in the files. */
  vectorBytes: Uint8Array;
  scales: Uint8Array | null;
  codes: Uint8Array;
}

function need(dir: string, m: Manifest, role: DataFile['role']): DataFile {
  const f = fileOf(m, role);
  if (!f) throw new FormatError(join(dir, 'manifest.json'), `lists no ${role} file`);
  return f;
}

export function readIndexArrays(dir: string, o: { verify?: boolean } = {}): IndexArrays {
  const manifest = readManifest(dir);
  if (o.verify !== false) verifyFiles(dir, manifest);
  const { items: n, dim, precision, codeBytes } = manifest;
  const read = (f: DataFile) => new Uint8Array(readFileSync(join(dir, f.name)));
  const vf = need(dir, manifest, 'vectors');
  const vectorBytes = read(vf);
  if (vectorBytes.length !== n * dim * bytesPerValue(precision))
    throw new FormatError(join(dir, vf.name), `expected ${n} x ${dim} ${precision} values`);
  const sf = precision === 'i8' ? need(dir, manifest, 'scales') : undefined;
  const scales = sf ? read(sf) : null;
  if (scales && scales.length !== n * 4)
    throw new FormatError(join(dir, (sf as DataFile).name), `expected ${n} float32 scales`);
  const cf = need(dir, manifest, 'codes');
  const codes = read(cf);
  if (codes.length !== n * codeBytes)
    throw new FormatError(join(dir, cf.name), `expected ${n} codes of ${codeBytes} bytes`);
  const itf = need(dir, manifest, 'items');
  const items = parseItems(readFileSync(join(dir, itf.name), 'utf8'), join(dir, itf.name), n);
  return { manifest, items, vectorBytes, scales, codes };
}

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

export interface OpenIndexOptions {
  /** Where a restart of the search worker is reported (default stderr). */
  log?: (line: string) => void;
}

export async function openIndex(dirIn: string, o: OpenIndexOptions = {}): Promise<VisualSearchIndex> {
  const dir = resolve(dirIn);
  if (isLanceIndex(dir)) return openLanceIndex(dir);
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
