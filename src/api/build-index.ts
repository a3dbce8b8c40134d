// buildIndex for library users: an index folder as `normsoftmax index build` makes it, from the same options
// as its flags in camelCase (one source: images, dataset + root + split, csv, or embeddings + meta).
import { resolve } from 'node:path';
import type { BuildReport } from '../search/build/build-index.js';
import { type IndexBuildRun, runIndexBuild } from '../search/build/run-index-build.js';

export type BuildIndexOptions = IndexBuildRun;

export interface BuildIndexResult {
  /** The index folder (absolute). */
  dir: string;
  items: number;
  /** Embedded by this build; reused unchanged from the index there before; recovered from an interrupted build. */
  embedded: number;
  reused: number;
  resumed: number;
  /** Items the index had that the source no longer has. */
  removed: number;
  /** Unreadable images left out (skipBadImages). */
  skipped: string[];
  generation: number;
}

/** Builds (or updates, embedding only what changed) the index folder `out`; one writer at a time. */
export async function buildIndex(options: BuildIndexOptions): Promise<BuildIndexResult> {
  const r: BuildReport = await runIndexBuild({ silent: true, ...options });
  const { items, embedded, reused, resumed, removed, skipped, manifest } = r;
  return {
    dir: resolve(options.out),
    items,
    embedded,
    reused,
    resumed,
    removed,
    skipped,
    generation: manifest.generation,
  };
}
