// The usearch backend's row of the backend table (../backends.ts): the folder's own files (vectors at
// f32, f16 or i8, codes, items.jsonl, HNSW graphs above exactBelow items), searched in an engine worker.
// Its modules load when first used, so that a command that does not open, write or read an index pays
// nothing for them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../../util/errors.js';
import type { SearchBackend } from '../backend.js';
import { fileOf, filesBytes } from '../manifest.js';
import { verifyFiles } from '../verify.js';

export const usearchBackend: SearchBackend = {
  precisions: ['f32', 'f16', 'i8'],
  write: async (dir, content, o) => (await import('./write.js')).writeUsearchIndex(dir, content, o),
  open: async (dir, o) => (await import('./open.js')).openUsearchIndex(dir, o),
  readContent: async (dir) => (await import('./read-content.js')).readUsearchContent(dir),
  rowsOfIds: async (dir, m, ids) => {
    const f = fileOf(m, 'items');
    if (!f) throw new FormatError(join(dir, 'manifest.json'), 'lists no items file');
    return (await import('./items-file.js')).rowsOfIds(readFileSync(join(dir, f.name), 'utf8'), ids);
  },
  verify: async (dir, m) => {
    verifyFiles(dir, m);
  },
  dataBytes: (_dir, m) => filesBytes(m),
  builtLines: (m) =>
    m.hnsw.map((h) => `${h.role} recall@10 vs exact: ${h.recallAt10.toFixed(4)} (${h.recallQueries} queries)`),
  infoRows: (m) =>
    m.hnsw.map((h) => [
      h.role,
      `${h.metric}, ${h.quantization}, ${h.dimensions} dims, M ${h.connectivity}, ef ${h.expansionAdd}/${h.expansionSearch}, recall@10 ${h.recallAt10.toFixed(4)}`,
    ]),
};
