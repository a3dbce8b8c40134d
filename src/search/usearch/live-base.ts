// The base of a live usearch index (../live/live-index.ts): one generation's items and vectors (the vectors
// shared with its engine worker), searched with the delta in that worker. A compaction runs in a second
// worker, which writes the next generation and then searches it: the switch hands searches to it, and the
// old worker ends once the searches it holds are answered.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PartHealth } from '../../util/supervised-worker.js';
import { fieldsOf } from '../live/delta.js';
import { sourcesOf } from '../live/layout.js';
import type { LiveBase, LiveBaseHits, LiveQuery, Snapshot } from '../live/live-index.js';
import { type Manifest, readManifest } from '../manifest.js';
import { RECALL_QUERIES } from '../recall-sample.js';
import type { IndexStats, ItemMeta } from '../types.js';
import { EngineClient } from './engine-client.js';

export class UsearchBase implements LiveBase {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly n: number;
  readonly #items: readonly ItemMeta[];
  readonly #rowOf: ReadonlyMap<string, number>;
  /** n x dim unit vectors (stored precision, renormalised), shared with the engine worker. */
  readonly #vectors: Float32Array;
  readonly #engine: EngineClient;
  readonly #bytes: number;
  readonly #log: (line: string) => void;

  constructor(
    dir: string,
    manifest: Manifest,
    items: readonly ItemMeta[],
    vectors: Float32Array,
    engine: EngineClient,
    bytes: number,
    log: (line: string) => void,
    rowOf?: ReadonlyMap<string, number>,
  ) {
    this.dir = dir;
    this.manifest = manifest;
    this.n = manifest.items;
    this.#items = items;
    this.#rowOf = rowOf ?? new Map(items.map((it, i) => [it.id, i]));
    this.#vectors = vectors;
    this.#engine = engine;
    this.#bytes = bytes;
    this.#log = log;
  }

  get delta(): EngineClient {
    return this.#engine;
  }

  get hnsw(): IndexStats['hnsw'] {
    return {
      float: this.manifest.hnsw.some((h) => h.role === 'hnsw-float'),
      binary: this.manifest.hnsw.some((h) => h.role === 'hnsw-binary'),
    };
  }

  item(row: number): ItemMeta {
    return this.#items[row] as ItemMeta;
  }

  rowOf(id: string): number | undefined {
    return this.#rowOf.get(id);
  }

  vector(row: number): Float32Array {
    const dim = this.manifest.dim;
    return this.#vectors.slice(row * dim, (row + 1) * dim);
  }

  search(flat: Float32Array, nq: number, q: LiveQuery): Promise<LiveBaseHits[]> {
    return this.#engine.search(flat, nq, q);
  }

  bytesOnDisk(): number {
    return this.#bytes;
  }

  health(): PartHealth {
    return this.#engine.health();
  }

  async compact(s: Snapshot): Promise<{ next: LiveBase; manifest: Manifest; lines: string[] }> {
    const m = this.manifest;
    const worker = new EngineClient({ log: this.#log });
    try {
      const r = await worker.compact({
        dir: this.dir,
        baseGeneration: m.generation,
        generation: m.generation + 1,
        hidden: s.hidden,
        puts: s.puts,
        recallQueries: RECALL_QUERIES,
      });
      const src = sourcesOf(this.n, r.layout);
      const items = Array.from(src, (from) =>
        from >= 0
          ? (this.#items[from] as ItemMeta)
          : ((s.puts[-from - 1] as Snapshot['puts'][number]).item as ItemMeta),
      );
      worker.adopt({ ...r.data, items: items.map(fieldsOf) });
      const manifest: Manifest = {
        ...m,
        updatedAt: new Date().toISOString(),
        generation: m.generation + 1,
        items: r.layout.n,
        files: r.files,
        hnsw: r.hnsw,
      };
      const bytes =
        r.files.reduce((sum, f) => sum + f.bytes, 0) + (this.#bytes - m.files.reduce((sum, f) => sum + f.bytes, 0));
      const next = new UsearchBase(this.dir, manifest, items, r.data.vectors, worker, bytes, this.#log);
      const lines = r.graphs.map((g) => `${g.role} ${g.how}, recall@10 ${g.recallAt10.toFixed(4)}`);
      return { next, manifest, lines };
    } catch (e) {
      await worker.close();
      throw e;
    }
  }

  /** After the switch: the worker ends (once it has answered what it holds), the generation's files go. */
  async retire(): Promise<void> {
    await this.#engine.close();
    const keep = new Set(readManifest(this.dir).files.map((f) => f.name));
    for (const name of readdirSync(this.dir))
      if (/^g\d+-/.test(name) && !keep.has(name)) rmSync(join(this.dir, name), { force: true });
  }

  close(): Promise<void> {
    return this.#engine.close();
  }
}
