// openIndex for library users: an index folder opened for search by item id, by vector or by image, one query
// per call, as `normsoftmax search` and the HTTP service answer them. Image queries load the index's model on
// first use (in a worker thread), so a program that searches by id never loads one.
import { readFileSync } from 'node:fs';
import type { EngineName } from '../embed/engine.js';
import { checkedEf } from '../search/graph-settings.js';
import { openIndex as openIndexFolder } from '../search/open-index.js';
import { createQueryEmbedder, type SettledQueryEmbedder } from '../search/query-embedder.js';
import type { IndexStats, ItemMeta, SearchHit, SearchMode, SearchRequest, VisualSearchIndex } from '../search/types.js';
import type { Precision } from '../tensor/precision.js';
import { InputError, UsageError } from '../util/errors.js';

/** What to search for: an indexed item, a vector of the index's dimension, or an image (bytes or a file path). */
export type SearchQuery = ({ id: string } | { vector: ArrayLike<number> } | { image: Uint8Array | string }) & {
  /** Results wanted (default 10). */
  k?: number;
  /** float (cosine, default), binary (bits in common) or rerank (Hamming candidates re-scored). */
  mode?: SearchMode;
  /** A filter on id, path and label, e.g. "label = 'sandal' AND path LIKE 'shoes/%'". */
  where?: string;
  /** Exact search even where the index has an HNSW graph. */
  exact?: boolean;
  /** Rerank: oversample x k Hamming candidates (default 4). */
  oversample?: number;
  /** Stop a search that runs longer (a filter's scan) with an error. */
  timeoutMs?: number;
  /** HNSW search beam, 1-4096 (default openIndex's ef, else the index's): more finds more true neighbours. */
  ef?: number;
};

export interface SearchResults {
  /** Best first: id, path, label and score (cosine, or bits in common for binary). */
  results: SearchHit[];
}

export interface OpenIndexOptions {
  /** Embed image queries with this checkpoint instead of the one the index names. */
  checkpoint?: string;
  /** Accept a checkpoint whose SHA-256 differs from the index's. */
  force?: boolean;
  /** The image queries' engine and precision (default as `serve` chooses). */
  engine?: EngineName;
  precision?: Precision;
  /** HNSW search beam of searches that name none, 1-4096 (default the one the index was built with, 64). */
  ef?: number;
}

export interface SearchIndex {
  readonly dir: string;
  stats(): IndexStats;
  /** An item's metadata, or undefined when the index has no such id. */
  item(id: string): ItemMeta | undefined;
  search(query: SearchQuery): Promise<SearchResults>;
  /** Ends the index's worker threads (and the model's, if an image was searched). */
  close(): Promise<void>;
}

function requestOf(q: SearchQuery): SearchRequest {
  const request: SearchRequest = { k: q.k ?? 10, mode: q.mode ?? 'float' };
  if (q.where !== undefined) request.where = q.where;
  if (q.exact !== undefined) request.exact = q.exact;
  if (q.oversample !== undefined) request.oversample = q.oversample;
  if (q.timeoutMs !== undefined) request.timeoutMs = q.timeoutMs;
  if (q.ef !== undefined) request.ef = q.ef;
  return request;
}

class LibrarySearchIndex implements SearchIndex {
  #embedder: Promise<SettledQueryEmbedder> | null = null;

  constructor(
    readonly index: VisualSearchIndex,
    readonly options: OpenIndexOptions,
  ) {}

  get dir(): string {
    return this.index.dir;
  }

  stats(): IndexStats {
    return this.index.stats();
  }

  item(id: string): ItemMeta | undefined {
    return this.index.item(id);
  }

  async search(query: SearchQuery): Promise<SearchResults> {
    const request = requestOf(query);
    const [hits] = await this.index.search([await this.#vectorOf(query)], request);
    return { results: hits ?? [] };
  }

  async #vectorOf(query: SearchQuery): Promise<Float32Array> {
    const kinds = ['id', 'vector', 'image'].filter((k) => k in query);
    if (kinds.length !== 1) throw new UsageError('search: give exactly one of id, vector or image');
    if ('id' in query) {
      const v = this.index.vectorOf(query.id);
      if (!v) throw new InputError(`search: no item with id "${query.id.slice(0, 100)}" in the index`);
      return v;
    }
    if ('vector' in query) return Float32Array.from(query.vector);
    const bytes = typeof query.image === 'string' ? new Uint8Array(readFileSync(query.image)) : query.image;
    this.#embedder ??= createQueryEmbedder(this.index.embedder, {
      ...(this.options.checkpoint !== undefined ? { checkpoint: this.options.checkpoint } : {}),
      ...(this.options.force ? { force: true } : {}),
      ...(this.options.engine !== undefined ? { engine: this.options.engine } : {}),
      ...(this.options.precision !== undefined ? { precision: this.options.precision } : {}),
    });
    const [v] = await (await this.#embedder).embedSettled([bytes]);
    if (v instanceof Error) throw v;
    return v as Float32Array;
  }

  async close(): Promise<void> {
    const embedder = this.#embedder;
    this.#embedder = null;
    await Promise.all([
      this.index.close(),
      embedder?.then(
        (e) => e.close(),
        () => undefined,
      ),
    ]);
  }
}

/** Opens an index folder built by `normsoftmax index build` (or buildIndex): checks its files, loads it. */
export async function openIndex(dir: string, options: OpenIndexOptions = {}): Promise<SearchIndex> {
  const ef = checkedEf(options.ef);
  return new LibrarySearchIndex(await openIndexFolder(dir, ef !== undefined ? { ef } : {}), options);
}
