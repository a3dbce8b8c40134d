// Building one HNSW file for an index (in the engine worker): add single-threaded, repair unreachable
// items, save, and measure recall@10 against exact search on up to 1,000 item vectors as queries.
//
// Recall counts ties as hits: a returned item whose exact score is at least the exact 10th score counts
// (binary codes tie often; which of several equal items comes back is not an error).
import { packCodes } from '../binary-codes.js';
import { sampleRows } from '../recall-sample.js';
import { rescore } from '../rescore.js';
import { exactBinary, exactFloat, gatherRows, unpackCodes } from './exact-search.js';
import { buildHnsw, type HnswSpec, searchHnsw } from './hnsw.js';

export interface HnswBuildRequest {
  kind: 'float' | 'binary';
  spec: HnswSpec;
  n: number;
  dim: number;
  vectors: Float32Array;
  /** The packed codes of the items (binary indexes are built from them). */
  codes: Uint8Array;
  path: string;
  recallQueries: number;
}

export interface HnswBuildResult {
  repaired: number;
  unreachable: number;
  orphans: number[];
  recallAt10: number;
  recallQueries: number;
}

export function buildHnswFile(r: HnswBuildRequest): HnswBuildResult {
  const data = r.kind === 'float' ? r.vectors : unpackCodes(r.codes);
  const built = buildHnsw(r.spec, data, r.n);
  built.index.save(r.path);
  const recall = measureRecall(r.kind, built.index, r);
  return { repaired: built.repaired, unreachable: built.unreachable, orphans: built.orphans, ...recall };
}

/** Recall@10 of a graph against exact search, with up to `recallQueries` item vectors as queries. */
export function measureRecall(
  kind: 'float' | 'binary',
  // biome-ignore lint/suspicious/noExplicitAny: usearch's Index class type is not exported under a stable name.
  index: any,
  r: Pick<HnswBuildRequest, 'n' | 'dim' | 'vectors' | 'codes' | 'recallQueries'>,
): { recallAt10: number; recallQueries: number } {
  const { n, dim, codes } = r;
  const rows = sampleRows(n, r.recallQueries);
  const k = Math.min(10, n);
  const q = gatherRows(r.vectors, dim, rows);
  let hits = 0;
  if (kind === 'float') {
    const exact = exactFloat(r.vectors, dim, q, rows.length, k);
    searchHnsw(index, q, rows.length, k).forEach((h, i) => {
      const kth = exact[i]?.scores[k - 1] as number;
      const got = rescore(r.vectors, dim, q.subarray(i * dim, (i + 1) * dim), h.rows, k);
      hits += Math.min(k, got.scores.filter((s) => s >= kth - 1e-5).length);
    });
  } else {
    const qc = packCodes(q, dim);
    const exact = exactBinary(codes, qc, rows.length, k, dim);
    const qBits = unpackCodes(qc);
    searchHnsw(index, qBits, rows.length, k).forEach((h, i) => {
      const kth = exact[i]?.scores[k - 1] as number;
      hits += Math.min(k, Array.from(h.distances).filter((d) => dim - Math.round(d) >= kth).length);
    });
  }
  return { recallAt10: rows.length === 0 ? 1 : hits / (rows.length * k), recallQueries: rows.length };
}
