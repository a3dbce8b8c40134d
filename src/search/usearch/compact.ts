// Compaction of a live usearch index (in an engine worker of its own, so that searches go on meanwhile):
// the base generation's files (verified) and the delta's snapshot (tombstoned rows, puts) make the next
// generation's files, laid out by ../live/layout.ts: rows kept where they are, puts in the holes and after
// the end, the last rows moved into holes left over. Stored vectors of kept rows are copied as they are
// (never quantised twice); only the puts are quantised. HNSW graphs are extended, not rebuilt: the old
// graph loaded, tombstoned and moved keys removed, moved and put rows added, those that do not find
// themselves added again (as a build does), the old orphans checked again; then recall@10 is measured
// as a build measures it, and a graph that lost more than RECALL_SLACK against the base's is rebuilt.
// The manifest is not written here: the main thread writes it (the switch), then removes the old files.
import { renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, fsyncFile, writeFileAtomic } from '../../io/atomic.js';
import { asDiskFull } from '../../io/disk-full.js';
import { FailureError } from '../../util/errors.js';
import { packCodes } from '../binary-codes.js';
import type { FilterFields } from '../filter.js';
import { type CompactionLayout, compactionLayout, sourcesOf } from '../live/layout.js';
import { type DataFile, type DataRole, fileOf, type HnswInfo } from '../manifest.js';
import { bytesPerValue, dequantize, quantize } from '../precision.js';
import { sha256File, sha256Hex } from '../sha256.js';
import type { ItemMeta } from '../types.js';
import type { EngineData } from './engine.js';
import { unpackCodes } from './exact-search.js';
import { buildHnsw, DEFAULT_HNSW, type HnswSpec, loadHnsw, unreachableRows } from './hnsw.js';
import { measureRecall } from './hnsw-build.js';
import { serializeItems } from './items-file.js';
import { readIndexArrays } from './read-content.js';

/** An extended graph may lose this much recall@10 against the base's before it is rebuilt instead. */
export const RECALL_SLACK = 0.01;

export interface CompactRequest {
  dir: string;
  /** The base's generation (the files read must be its own) and the next one's. */
  baseGeneration: number;
  generation: number;
  hidden: Int32Array;
  puts: { item: ItemMeta; vector: Float32Array }[];
  recallQueries: number;
}

export interface GraphReport {
  role: 'hnsw-float' | 'hnsw-binary';
  /** extended: the base's graph with the changes; built: a new graph (none before, or recall fell). */
  how: 'extended' | 'built' | 'rebuilt';
  recallAt10: number;
}

export interface CompactResult {
  layout: CompactionLayout;
  files: DataFile[];
  hnsw: HnswInfo[];
  graphs: GraphReport[];
  /** What the worker now searches (and a restarted one opens): its vectors shared, its codes copied. */
  data: EngineData;
}

// biome-ignore lint/suspicious/noExplicitAny: usearch's Index class type is not exported under a stable name.
type UIndex = any;

/** Rows of a row-major array of `width` bytes per row, laid out from the base's rows and the puts'. */
function layRows(base: Uint8Array, puts: Uint8Array, width: number, src: Int32Array): Uint8Array {
  const out = new Uint8Array(src.length * width);
  for (let r = 0; r < src.length; r++) {
    const s = src[r] as number;
    const from = s >= 0 ? base.subarray(s * width, (s + 1) * width) : puts.subarray((-s - 1) * width, -s * width);
    out.set(from, r * width);
  }
  return out;
}

function shared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(4, bytes));
}

export function compactGeneration(req: CompactRequest): { result: CompactResult; data: EngineData } {
  const { dir } = req;
  const a = readIndexArrays(dir);
  const m = a.manifest;
  if (m.generation !== req.baseGeneration)
    throw new FailureError(
      `compaction: ${dir} is at generation ${m.generation}, not ${req.baseGeneration} (written by another process?)`,
    );
  const { dim, precision } = m;
  const baseN = m.items;
  const layout = compactionLayout(baseN, req.hidden, req.puts.length);
  const src = sourcesOf(baseN, layout);
  const n = layout.n;
  const putVectors = new Float32Array(req.puts.length * dim);
  req.puts.forEach((p, i) => {
    putVectors.set(p.vector, i * dim);
  });
  const encoded = quantize(putVectors, dim, precision);
  const vectorBytes = layRows(a.vectorBytes, encoded.vectors, dim * bytesPerValue(precision), src);
  const scales =
    a.scales && encoded.scales
      ? layRows(a.scales, encoded.scales, 4, src)
      : precision === 'i8'
        ? new Uint8Array(0)
        : null;
  const codeBytes = m.codeBytes;
  const codes = layRows(a.codes, packCodes(putVectors, dim), codeBytes, src);
  const items = Array.from(src, (s) => (s >= 0 ? (a.items[s] as ItemMeta) : (req.puts[-s - 1]?.item as ItemMeta)));

  const files: DataFile[] = [];
  const put = (role: DataRole, suffix: string, bytes: Uint8Array) => {
    const name = `g${req.generation}-${suffix}`;
    writeFileAtomic(join(dir, name), bytes, { fault: 'compact:write-data' });
    files.push({ role, name, bytes: bytes.length, sha256: sha256Hex(bytes) });
  };
  put('vectors', `vectors.${precision}`, vectorBytes);
  if (scales) put('scales', 'scales.f32', scales);
  put('codes', 'codes.bin', codes);
  put('items', 'items.jsonl', Buffer.from(serializeItems(items), 'utf8'));

  // What search uses: the stored precision, renormalised (a copy for the tensors, shared for the threads).
  const stored = dequantize(vectorBytes, scales, n, dim, precision, { renormalise: true });
  const hnsw: HnswInfo[] = [];
  const graphs: GraphReport[] = [];
  const engineGraphs: Pick<EngineData, 'hnswFloat' | 'hnswBinary'> = { hnswFloat: null, hnswBinary: null };
  if (n > m.exactBelow) {
    for (const kind of ['float', 'binary'] as const) {
      const role = kind === 'float' ? 'hnsw-float' : 'hnsw-binary';
      const before = m.hnsw.find((h) => h.role === role);
      const file = fileOf(m, role);
      const params = before
        ? {
            connectivity: before.connectivity,
            expansionAdd: before.expansionAdd,
            expansionSearch: before.expansionSearch,
          }
        : (m.graphParams ?? DEFAULT_HNSW);
      const spec: HnswSpec =
        kind === 'float'
          ? { metric: 'cos', quantization: precision, dimensions: dim, params }
          : { metric: 'hamming', quantization: 'b1', dimensions: codeBytes * 8, params };
      const data = kind === 'float' ? stored : unpackCodes(codes);
      const measure = (index: UIndex) =>
        measureRecall(kind, index, { n, dim, vectors: stored, codes, recallQueries: req.recallQueries });
      let graph: { index: UIndex; orphans: number[] };
      let how: GraphReport['how'];
      let recall: { recallAt10: number; recallQueries: number };
      if (before && file) {
        graph = extendGraph(
          loadHnsw(spec, join(dir, file.name)),
          spec,
          data,
          baseN,
          layout,
          req.hidden,
          before.orphans ?? [],
        );
        recall = measure(graph.index);
        how = 'extended';
        if (recall.recallAt10 < before.recallAt10 - RECALL_SLACK) {
          graph = buildHnsw(spec, data, n);
          recall = measure(graph.index);
          how = 'rebuilt';
        }
      } else {
        graph = buildHnsw(spec, data, n);
        recall = measure(graph.index);
        how = 'built';
      }
      const name = `g${req.generation}-${role}.usearch`;
      const tmp = join(dir, `${name}.tmp`);
      try {
        graph.index.save(tmp);
        fsyncFile(tmp);
        renameSync(tmp, join(dir, name));
        fsyncDir(dir);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw asDiskFull(e, join(dir, name));
      }
      files.push({ role, name, bytes: statSync(join(dir, name)).size, sha256: sha256File(join(dir, name)) });
      const orphans = graph.orphans;
      hnsw.push({
        role,
        metric: spec.metric,
        quantization: spec.quantization,
        dimensions: spec.dimensions,
        connectivity: params.connectivity,
        expansionAdd: params.expansionAdd,
        expansionSearch: params.expansionSearch,
        recallAt10: recall.recallAt10,
        recallQueries: recall.recallQueries,
        orphans,
      });
      graphs.push({ role, how, recallAt10: recall.recallAt10 });
      engineGraphs[kind === 'float' ? 'hnswFloat' : 'hnswBinary'] = {
        spec,
        path: join(dir, name),
        orphans: Int32Array.from(orphans),
      };
    }
  }
  const sharedVectors = new Float32Array(shared(n * dim * 4), 0, n * dim);
  sharedVectors.set(stored);
  const fields: FilterFields[] = items.map((it) => ({
    id: it.id,
    path: it.path,
    label: it.label,
    ...(it.meta !== undefined ? { meta: it.meta } : {}),
  }));
  const data: EngineData = { n, dim, vectors: sharedVectors, precision, codes, ...engineGraphs, items: fields };
  // The reply carries no items (the main thread lays its own out): a restart's data is set by the client.
  return { result: { layout, files, hnsw, graphs, data: { ...data, items: [] } }, data };
}

const key = (row: number) => BigInt(row);

/**
 * The base's graph with the compaction's changes: tombstoned rows' keys and moved rows' old keys removed,
 * moved and put rows added under their new rows; rows that do not find themselves are added again (three
 * rounds, as a build), and what remains (with the base's orphans still unreachable) are the orphans.
 */
function extendGraph(
  index: UIndex,
  spec: HnswSpec,
  data: Float32Array,
  baseN: number,
  layout: CompactionLayout,
  hidden: Int32Array,
  baseOrphans: readonly number[],
): { index: UIndex; orphans: number[] } {
  const dims = spec.dimensions;
  const remove = new Set<number>(hidden);
  for (const [from] of layout.moves) remove.add(from);
  for (const row of remove) if (index.contains(key(row))) index.remove(key(row));
  const added = [...layout.moves.map(([, to]) => to), ...layout.putRows].sort((x, y) => x - y);
  for (const row of added) index.add(key(row), data.subarray(row * dims, (row + 1) * dims), 1);
  const moved = new Map(layout.moves);
  const check = new Set(added);
  for (const o of baseOrphans) {
    if (remove.has(o) && !moved.has(o)) continue; // tombstoned, or its row now holds a put (in `added`)
    const row = moved.get(o) ?? o;
    if (row < layout.n && row < baseN) check.add(row);
  }
  let missing = unreachableRows(
    index,
    data,
    dims,
    layout.n,
    [...check].sort((x, y) => x - y),
  );
  for (let round = 0; round < 3 && missing.length > 0; round++) {
    for (const r of missing) {
      index.remove(key(r));
      index.add(key(r), data.subarray(r * dims, (r + 1) * dims), 1);
    }
    missing = unreachableRows(index, data, dims, layout.n, missing);
  }
  return { index, orphans: [...missing].sort((x, y) => x - y) };
}
