// Opens a usearch index folder as a VisualSearchIndex: verifies every file against the manifest, loads the
// metadata and vectors (f32 vectors memory-mapped where the search addon can: io/mapped-file.ts), hands
// search (filters included) to a supervised engine worker thread, and replays the write-ahead log of a
// live index (docs/index-format.md, "The live index") into the delta it searches beside the files. Opened
// writable (the caller holds the folder's writer lock), it also appends to the log.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OpenIndexOptions } from '../backend.js';
import { checkedEf } from '../graph-settings.js';
import { LiveIndex } from '../live/live-index.js';
import { readWal, type WalContent, WalGapError } from '../live/wal.js';
import { fileOf, type Manifest, removeManifestTemps } from '../manifest.js';
import { dequantize } from '../precision.js';
import type { VisualSearchIndex } from '../types.js';
import type { EngineData } from './engine.js';
import { EngineClient } from './engine-client.js';
import type { HnswSpec } from './hnsw.js';
import { UsearchBase } from './live-base.js';
import { type IndexArrays, readIndexArrays } from './read-content.js';

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

/** The generation's arrays and the log after it; read again when a compaction switched meanwhile. */
export function readLive(dir: string): { a: IndexArrays; wal: WalContent } {
  for (let attempt = 0; ; attempt++) {
    const a = readIndexArrays(dir, { mapVectors: true });
    const m = a.manifest;
    try {
      const wal = m.wal ? readWal(dir, m.wal.appliedSeq, m.dim) : { ops: [], lastSeq: 0, segments: [], tornBytes: 0 };
      return { a, wal };
    } catch (e) {
      if (!(e instanceof WalGapError) || attempt >= 3) throw e;
    }
  }
}

/** A writer's cleanup: files of generations the manifest does not name (a compaction killed before it). */
function removeLitter(dir: string, m: Manifest): void {
  const keep = new Set(m.files.map((f) => f.name));
  for (const name of readdirSync(dir))
    if (/^g\d+-/.test(name) && !keep.has(name)) rmSync(join(dir, name), { force: true });
  removeManifestTemps(dir);
}

export async function openUsearchIndex(dirIn: string, o: OpenIndexOptions = {}): Promise<VisualSearchIndex> {
  const dir = resolve(dirIn);
  const log = o.log ?? ((line: string) => console.error(`normsoftmax: ${line}`));
  // The worker starts first: it loads libtorch while this thread reads and verifies the files.
  const engine = new EngineClient({ log });
  let read: ReturnType<typeof readLive>;
  try {
    read = readLive(dir);
  } catch (e) {
    await engine.close();
    throw e;
  }
  const { a, wal } = read;
  const m = a.manifest;
  if (o.writer) {
    removeLitter(dir, m);
    if (wal.tornBytes > 0)
      log(`${join(dir, 'wal')}: ${wal.tornBytes} bytes of a write that was never answered (a torn record) cut off`);
  }
  const n = m.items;
  const dim = m.dim;
  // f32 vectors are searched as stored: mapped, each thread its own mapping of the same pages (an external
  // buffer cannot be shared with a worker). f16 and i8 are decoded into memory shared with the worker.
  const mapped = a.mappedVectors;
  let shared: Float32Array;
  if (mapped) shared = new Float32Array(a.vectorBytes.buffer, a.vectorBytes.byteOffset, n * dim);
  else {
    shared = new Float32Array(new SharedArrayBuffer(Math.max(4, n * dim * 4)), 0, n * dim);
    dequantize(a.vectorBytes, a.scales, n, dim, m.precision, { renormalise: true, into: shared });
  }
  const bytes = m.files.reduce((s, f) => s + f.bytes, 0) + readFileSync(join(dir, 'manifest.json')).length;
  const base = new UsearchBase(dir, m, a.items, shared, engine, bytes, log);
  try {
    await engine.open({
      n,
      dim,
      vectors: mapped ? new Float32Array(0) : shared,
      ...(mapped ? { vectorsFile: mapped } : {}),
      precision: m.precision,
      codes: a.codes,
      hnswFloat: hnswOf(dir, m, 'hnsw-float'),
      hnswBinary: hnswOf(dir, m, 'hnsw-binary'),
      items: a.items.map(({ id, path, label, meta }) => ({ id, path, label, ...(meta ? { meta } : {}) })),
    });
    const live = new LiveIndex(dir, base, wal, {
      log,
      ...(o.writer ? { writer: o.writer } : {}),
      ...(o.ef !== undefined ? { ef: checkedEf(o.ef) as number } : {}),
    });
    await live.start();
    return live;
  } catch (e) {
    await engine.close();
    throw e;
  }
}
