// The LanceDB backend's row of the backend table (../backends.ts): a Lance table in lance/, at the
// version the manifest names (layout.ts, pinned-table.ts).
import { join } from 'node:path';
import { folderBytes } from '../../io/folder-bytes.js';
import type { SearchBackend } from '../backend.js';
import { filesBytes, type Manifest } from '../manifest.js';
import { verifyFiles } from '../verify.js';
import { LANCE_DIR, type LanceInfo, type LanceManifest } from './layout.js';
import { openLanceIndex } from './open.js';
import { readLanceContent } from './read-content.js';
import { verifyLanceIndex } from './verify.js';
import { writeLanceIndex } from './write.js';

const lanceOf = (m: Manifest): LanceInfo | undefined => (m as Partial<LanceManifest>).lance;

export const lanceBackend: SearchBackend = {
  precisions: ['f32'],
  write: writeLanceIndex,
  open: (dir) => openLanceIndex(dir),
  readContent: readLanceContent,
  verify: async (dir, m) => {
    verifyFiles(dir, m);
    await verifyLanceIndex(dir, m as LanceManifest);
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
