// LanceDB's approximate index and the query settings that go with it. LanceDB's defaults give poor recall
// on embeddings because quantised distances are not re-ranked: recall@10 against exact search on 20,000
// random 128-d unit vectors was 0.19 (IVF-PQ), 0.17 (IVF-HNSW-PQ), 0.94 (IVF-HNSW-SQ); on bench/search's
// 100,000 x 512 clustered vectors 0.30 (IVF-PQ) and 0.90 (IVF-HNSW-SQ, where 38 of 200 items did not find
// themselves first). Tuned: IVF-HNSW-SQ, re-ranking refineFactor x k candidates by the full vectors with
// a wider HNSW beam: recall@10 0.99 and 1.00 there, every item first (test/search/lancedb.test.ts).
import { Index as LanceIndexConfig, type VectorQuery } from '@lancedb/lancedb';

export type LanceAnnKind = 'ivf-hnsw-sq' | 'ivf-pq' | 'ivf-hnsw-pq' | 'ivf-flat';

export interface LanceAnnIndex {
  kind: LanceAnnKind;
  /** IVF partitions; LanceDB chooses (about sqrt(rows)) when absent. */
  numPartitions?: number;
  /** HNSW connectivity and build beam (HNSW kinds). */
  m?: number;
  efConstruction?: number;
}

/** Query settings; an absent field leaves LanceDB's default (nprobes 20, ef 1.5 x limit, no re-rank). */
export interface LanceQuerySettings {
  nprobes?: number;
  ef?: number;
  refineFactor?: number;
}

export const TUNED_INDEX: LanceAnnIndex = { kind: 'ivf-hnsw-sq' };
export const TUNED_QUERY: Required<LanceQuerySettings> = { nprobes: 20, ef: 200, refineFactor: 10 };
export const DEFAULT_QUERY: LanceQuerySettings = {};

export function indexConfig(a: LanceAnnIndex): LanceIndexConfig {
  const common = {
    distanceType: 'cosine' as const,
    ...(a.numPartitions !== undefined ? { numPartitions: a.numPartitions } : {}),
  };
  const hnsw = {
    ...(a.m !== undefined ? { m: a.m } : {}),
    ...(a.efConstruction !== undefined ? { efConstruction: a.efConstruction } : {}),
  };
  if (a.kind === 'ivf-pq') return LanceIndexConfig.ivfPq(common);
  if (a.kind === 'ivf-flat') return LanceIndexConfig.ivfFlat(common);
  if (a.kind === 'ivf-hnsw-pq') return LanceIndexConfig.hnswPq({ ...common, ...hnsw });
  return LanceIndexConfig.hnswSq({ ...common, ...hnsw });
}

/** Applies query settings; ef is at least the candidates HNSW must return (k x refineFactor). */
export function applyQuery(q: VectorQuery, s: LanceQuerySettings, k: number): VectorQuery {
  let out = q;
  if (s.nprobes !== undefined) out = out.nprobes(s.nprobes);
  if (s.refineFactor !== undefined) out = out.refineFactor(s.refineFactor);
  if (s.ef !== undefined) out = out.ef(Math.max(s.ef, k * (s.refineFactor ?? 1)));
  return out;
}
