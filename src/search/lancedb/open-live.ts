// Opens a LanceDB index folder as a live index (../live/live-index.ts): the table at the version the manifest
// names, read into memory, the write-ahead log replayed over it, the delta searched in an engine worker.
// Opened writable (the caller holds the folder's writer lock), a table left ahead of its manifest by an
// interrupted compaction or write is rolled back first, and the manifest made to name the restored version.
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { folderBytes } from '../../io/folder-bytes.js';
import type { OpenIndexOptions } from '../backend.js';
import { checkedEf } from '../graph-settings.js';
import { LiveIndex } from '../live/live-index.js';
import { readWal, type WalContent, WalGapError } from '../live/wal.js';
import { MANIFEST_NAME, removeManifestTemps } from '../manifest.js';
import type { VisualSearchIndex } from '../types.js';
import { EngineClient } from '../usearch/engine-client.js';
import { type LanceManifest, readLanceManifest } from './layout.js';
import { LanceBase } from './live-base.js';
import { openPinnedTable, type PinnedTable, rollBack } from './pinned-table.js';
import { hasLiveColumns, readTable } from './table-io.js';

function readLog(dir: string): { m: LanceManifest; wal: WalContent } {
  for (let attempt = 0; ; attempt++) {
    const m = readLanceManifest(dir);
    try {
      const wal = m.wal ? readWal(dir, m.wal.appliedSeq, m.dim) : { ops: [], lastSeq: 0, segments: [], tornBytes: 0 };
      return { m, wal };
    } catch (e) {
      if (!(e instanceof WalGapError) || attempt >= 3) throw e;
    }
  }
}

export async function openLanceLive(dirIn: string, o: OpenIndexOptions = {}): Promise<VisualSearchIndex> {
  const dir = resolve(dirIn);
  const log = o.log ?? ((line: string) => console.error(`normsoftmax: ${line}`));
  const { m, wal } = readLog(dir);
  const engine = new EngineClient({ log });
  let pinned: PinnedTable | null = null;
  try {
    await engine.open({
      n: 0,
      dim: m.dim,
      vectors: new Float32Array(0),
      codes: new Uint8Array(0),
      hnswFloat: null,
      hnswBinary: null,
      items: [],
    });
    pinned = await openPinnedTable(dir, m);
    if (o.writer) {
      removeManifestTemps(dir);
      if (pinned.ahead) {
        log(
          `lancedb: the table is at version ${pinned.latest}, ahead of the manifest's ${pinned.pinned} (an interrupted write): rolled back to ${pinned.pinned}`,
        );
        await rollBack(pinned);
        // The restored content is a new version: the manifest names it, so that the next commit follows it.
        m.lance.tableVersion = await pinned.table.version();
        writeFileAtomic(join(dir, MANIFEST_NAME), `${JSON.stringify(m, null, 2)}\n`);
      }
      if (wal.tornBytes > 0)
        log(`${join(dir, 'wal')}: ${wal.tornBytes} bytes of a write that was never answered (a torn record) cut off`);
    }
    const table = pinned.table;
    // Read-only from here: a compaction's commits (through another handle) are not seen until the switch.
    await table.checkout(m.lance.tableVersion);
    const content = await readTable(table, m.dim);
    const base = new LanceBase(dir, m, table, content, await hasLiveColumns(table), engine, () => folderBytes(dir));
    const live = new LiveIndex(dir, base, wal, {
      log,
      ...(o.writer ? { writer: o.writer } : {}),
      ...(o.ef !== undefined ? { ef: checkedEf(o.ef) as number } : {}),
    });
    await live.start();
    return live;
  } catch (e) {
    pinned?.table.close();
    await engine.close();
    throw e;
  }
}
