// Loads the search addon (native/build/normsoftmax_search.node, native/src/search_addon.cpp): the exact
// search kernels alone, built without libtorch, so that a process or worker that only searches an index
// (search --id, the usearch engine's worker) does not load libtorch (~0.7 s of start-up). The libtorch
// addon exports the same functions from the same code; it runs them where the search addon was not built
// (a build from before it existed), at the cost of loading libtorch.
import { createRequire } from 'node:module';
import { libtorchAddonFile, searchAddonPath } from './addon-files.js';
import type { NativeAddon } from './native-api.js';

export const SEARCH_ADDON_NAMES = ['scanHamming', 'scanInnerProduct', 'scanSimdLevels'] as const;
/** The functions both addons export for the scan kernels (src/tensor/kernels/scan.ts). */
export type SearchAddon = Pick<NativeAddon, (typeof SEARCH_ADDON_NAMES)[number]>;

function searchFunctions(path: string, addon: Record<string, unknown>): SearchAddon {
  const missing = SEARCH_ADDON_NAMES.filter((name) => typeof addon[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`${path} lacks ${missing.join(', ')}: rebuild it with \`npm run build:native\``);
  }
  return Object.fromEntries(SEARCH_ADDON_NAMES.map((name) => [name, addon[name]])) as unknown as SearchAddon;
}

const path = searchAddonPath();

/** The search addon's file; null where it is absent and the libtorch addon runs the kernels. */
export const searchAddonFile: string | null = path;

// The fallback requires the libtorch addon itself rather than importing src/tensor/native.ts (that would take
// a top-level await, which keeps a module from being require()d); libtorch's intra-op threads are then
// what native.ts sets where it is loaded too, else libtorch's default.
const file = path ?? libtorchAddonFile();
const loaded = createRequire(import.meta.url)(file) as Record<string, unknown>;
export const searchNative: SearchAddon = searchFunctions(file, loaded);

/**
 * The search addon's mapFile (native/src/search_mmap.cpp): a whole file memory-mapped, private and
 * copy-on-write, as an ArrayBuffer that unmaps when collected. Null where the addon lacks it (the libtorch
 * fallback, or a build from before it): callers read the file into the heap instead.
 */
export const mapFileNative: ((path: string) => ArrayBuffer) | null =
  typeof loaded.mapFile === 'function' ? (loaded.mapFile as (path: string) => ArrayBuffer) : null;
