// Writes a usearch index folder (docs/index-format.md). Data files carry the build's generation in their names
// (g3-vectors.f32, ...) and are each written to a temporary name, fsynced, renamed and the folder fsynced;
// the manifest is written last, the same way, so a reader (or a crash) sees either the previous complete
// index or the new one, never a mix. Files of older generations are removed after the manifest names the
// new ones. The caller holds the folder's writer lock.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { renameDurable, writeFileAtomic } from '../../io/atomic.js';
import { asDiskFull } from '../../io/disk-full.js';
import { faultPoint } from '../../util/fault.js';
import type { IndexContent, WriteOptions } from '../backend.js';
import { packCodes } from '../binary-codes.js';
import { checkedGraphSettings } from '../graph-settings.js';
import {
  type DataFile,
  type DataRole,
  type HnswInfo,
  INDEX_FORMAT,
  MANIFEST_NAME,
  type Manifest,
  manifestVersion,
  readManifest,
  removeManifestTemps,
} from '../manifest.js';
import { dequantize, quantize } from '../precision.js';
import { RECALL_QUERIES } from '../recall-sample.js';
import { sha256File, sha256Hex } from '../sha256.js';
import { EngineClient } from './engine-client.js';
import { DEFAULT_HNSW, type HnswParams, type HnswSpec } from './hnsw.js';
import { serializeItems } from './items-file.js';

export interface UsearchWriteOptions extends WriteOptions {
  /** The HNSW graphs' parameters, all three (default: graphParamsOf). */
  hnsw?: HnswParams;
}

function previousManifest(dir: string): Manifest | null {
  try {
    return existsSync(join(dir, MANIFEST_NAME)) ? readManifest(dir) : null;
  } catch {
    return null;
  }
}

/** The graphs' parameters: the options', else the previous build's, else the defaults; M and efConstruction as asked. */
export function graphParamsOf(o: Pick<UsearchWriteOptions, 'hnsw' | 'graph'>, prev: Manifest | null): HnswParams {
  if (o.hnsw) return o.hnsw;
  const asked = checkedGraphSettings(o.graph);
  const before = prev?.graphParams ?? prev?.hnsw.find((h) => h.role === 'hnsw-float');
  const base: HnswParams = before
    ? { connectivity: before.connectivity, expansionAdd: before.expansionAdd, expansionSearch: before.expansionSearch }
    : DEFAULT_HNSW;
  return {
    connectivity: asked.m ?? base.connectivity,
    expansionAdd: asked.efConstruction ?? base.expansionAdd,
    expansionSearch: base.expansionSearch,
  };
}

export async function writeUsearchIndex(dir: string, content: IndexContent, o: UsearchWriteOptions): Promise<Manifest> {
  const { items, dim, vectors } = content;
  const n = items.length;
  if (vectors.length !== n * dim)
    throw new Error(`writeUsearchIndex: ${vectors.length} values for ${n} items of dim ${dim}`);
  mkdirSync(dir, { recursive: true });
  const prev = previousManifest(dir);
  const generation = (prev?.generation ?? 0) + 1;
  const files: DataFile[] = [];
  const put = (role: DataRole, suffix: string, bytes: Uint8Array) => {
    const name = `g${generation}-${suffix}`;
    writeFileAtomic(join(dir, name), bytes, { fault: 'index-build:write-data' });
    files.push({ role, name, bytes: bytes.length, sha256: sha256Hex(bytes) });
  };
  const encoded = quantize(vectors, dim, o.precision);
  const codes = content.codes ?? packCodes(vectors, dim);
  if (codes.length !== n * Math.ceil(dim / 8))
    throw new Error(`writeUsearchIndex: ${codes.length} code bytes for ${n} items of dim ${dim}`);
  put('vectors', `vectors.${o.precision}`, encoded.vectors);
  if (encoded.scales) put('scales', 'scales.f32', encoded.scales);
  put('codes', 'codes.bin', codes);
  put('items', 'items.jsonl', Buffer.from(serializeItems(items), 'utf8'));

  const hnsw: HnswInfo[] = [];
  const params = graphParamsOf(o, prev);
  if (n > o.exactBelow) {
    // HNSW sees the vectors search uses: stored precision, renormalised.
    // In memory shared with the engine worker: a plain array would be copied into it (2 GB at 1M x 512).
    const stored = dequantize(encoded.vectors, encoded.scales, n, dim, o.precision, {
      renormalise: true,
      into: new Float32Array(new SharedArrayBuffer(Math.max(4, n * dim * 4)), 0, n * dim),
    });
    const engine = new EngineClient();
    try {
      for (const kind of ['float', 'binary'] as const) {
        const role = kind === 'float' ? 'hnsw-float' : 'hnsw-binary';
        const spec: HnswSpec =
          kind === 'float'
            ? { metric: 'cos', quantization: o.precision, dimensions: dim, params }
            : { metric: 'hamming', quantization: 'b1', dimensions: Math.ceil(dim / 8) * 8, params };
        o.onStatus?.(`building the ${kind} HNSW index (${n} items)`);
        const name = `g${generation}-${role}.usearch`;
        const tmp = join(dir, `${name}.tmp`);
        let result: Awaited<ReturnType<EngineClient['buildHnsw']>>;
        try {
          result = await engine.buildHnsw({
            kind,
            spec,
            n,
            dim,
            vectors: stored,
            codes,
            path: tmp,
            recallQueries: RECALL_QUERIES,
          });
          renameDurable(tmp, join(dir, name));
        } catch (e) {
          rmSync(tmp, { force: true });
          throw asDiskFull(e, join(dir, name));
        }
        files.push({ role, name, bytes: statSync(join(dir, name)).size, sha256: sha256File(join(dir, name)) });
        const info: HnswInfo = {
          role,
          metric: spec.metric,
          quantization: spec.quantization,
          dimensions: spec.dimensions,
          connectivity: params.connectivity,
          expansionAdd: params.expansionAdd,
          expansionSearch: params.expansionSearch,
          recallAt10: result.recallAt10,
          recallQueries: result.recallQueries,
          orphans: result.orphans,
        };
        hnsw.push(info);
        const repairs =
          result.repaired > 0
            ? `; ${result.repaired} unreachable items re-added, ${result.unreachable} still unreachable (searched exactly beside the graph)`
            : '';
        o.onStatus?.(
          `${kind} HNSW recall@10 vs exact: ${result.recallAt10.toFixed(4)} on ${result.recallQueries} item queries${repairs}`,
        );
      }
    } finally {
      await engine.close();
    }
  }
  const now = new Date().toISOString();
  const manifest: Manifest = {
    format: INDEX_FORMAT,
    version: manifestVersion(o),
    backend: 'usearch',
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
    generation,
    embedder: o.embedder,
    items: n,
    dim,
    precision: o.precision,
    codeBytes: Math.ceil(dim / 8),
    imageRoot: o.imageRoot,
    source: o.source,
    exactBelow: o.exactBelow,
    files,
    hnsw,
    graphParams: params,
    ...(o.wal ? { wal: o.wal } : {}),
  };
  faultPoint('index-build:before-manifest');
  writeFileAtomic(join(dir, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`, {
    fault: 'index-build:write-manifest',
  });
  faultPoint('index-build:after-manifest');
  const keep = new Set(files.map((f) => f.name));
  for (const name of readdirSync(dir)) {
    if (/^g\d+-/.test(name) && !keep.has(name)) rmSync(join(dir, name), { force: true });
  }
  removeManifestTemps(dir);
  return manifest;
}
