// The LanceDB backend's row of the backend table (../backends.ts): a Lance table in lance/, at the
// version the manifest names (layout.ts, pinned-table.ts). Its modules (and LanceDB's native library) load
// when first used: a usearch index never loads them.
import { join } from 'node:path';
import { folderBytes } from '../../io/folder-bytes.js';
import type { SearchBackend } from '../backend.js';
import { filesBytes, type Manifest } from '../manifest.js';
import { verifyFiles } from '../verify.js';
import { LANCE_DIR, type LanceInfo, type LanceManifest } from './layout.js';

const lanceOf = (m: Manifest): LanceInfo | undefined => (m as Partial<LanceManifest>).lance;

export const lanceBackend: SearchBackend = {
  precisions: ['f32'],
  write: async (dir, content, o) => (await import('./write.js')).writeLanceIndex(dir, content, o),
  open: async (dir, o) => (await import('./open-live.js')).openLanceLive(dir, o),
  readContent: async (dir) => (await import('./read-content.js')).readLanceContent(dir),
  rowsOfIds: async (dir, m, ids) => (await import('./table-io.js')).rowsOfIds(dir, m as LanceManifest, ids),
  verify: async (dir, m) => {
    verifyFiles(dir, m);
    await (await import('./verify.js')).verifyLanceIndex(dir, m as LanceManifest);
  },
  dataBytes: (dir, m) => filesBytes(m) + folderBytes(join(dir, LANCE_DIR)),
  builtLines: (m) => {
    const lance = lanceOf(m);
    if (!lance?.index || lance.recallAt10 === null) return [];
    return [
      `lancedb ${lance.index.kind} recall@10 vs exact: ${lance.recallAt10.toFixed(4)} (${lance.recallQueries} queries, ${lance.selfHits} found themselves first)`,
    ];
  },
  infoRows: (m) => {
    const lance = lanceOf(m);
    if (!lance) return [];
    const search = lance.index
      ? `${lance.index.kind}, query ${JSON.stringify(lance.query)}, recall@10 ${lance.recallAt10?.toFixed(4)}`
      : 'exact search';
    return [['lancedb', `table ${lance.table} version ${lance.tableVersion}; ${search}`]];
  },
};
