// Loads the search addon (native/build/normsoftmax_search.node, native/src/search_addon.cpp): the exact
// search kernels alone, built without libtorch, so that a process or worker that only searches an index
// (search --id, the usearch engine's worker) does not load libtorch (~0.7 s of start-up). The libtorch
// addon exports the same functions from the same code; it runs them where the search addon was not built
// (a build from before it existed), at the cost of loading libtorch.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './native-api.js';

export const SEARCH_ADDON_NAMES = ['scanHamming', 'scanInnerProduct', 'scanSimdLevels'] as const;
/** The functions both addons export for the scan kernels (src/tensor/kernels/scan.ts). */
export type SearchAddon = Pick<NativeAddon, (typeof SEARCH_ADDON_NAMES)[number]>;

function findSearchAddon(): string | null {
  // NORMSOFTMAX_SEARCH_ADDON: another build of the search addon (as NORMSOFTMAX_ADDON for the other).
  const override = process.env.NORMSOFTMAX_SEARCH_ADDON;
  if (override) {
    if (!existsSync(override)) throw new Error(`NORMSOFTMAX_SEARCH_ADDON: ${override} does not exist`);
    return override;
  }
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build', 'normsoftmax_search.node');
  return existsSync(path) ? path : null;
}

function searchFunctions(path: string, addon: Record<string, unknown>): SearchAddon {
  const missing = SEARCH_ADDON_NAMES.filter((name) => typeof addon[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`${path} lacks ${missing.join(', ')}: rebuild it with \`npm run build:native\``);
  }
  return Object.fromEntries(SEARCH_ADDON_NAMES.map((name) => [name, addon[name]])) as unknown as SearchAddon;
}

const path = findSearchAddon();

/** The addon that runs the scan kernels: the search addon, or the libtorch addon where it is absent. */
export const searchAddonFile: string | null = path;

export const searchNative: SearchAddon =
  path !== null ? searchFunctions(path, createRequire(import.meta.url)(path)) : (await import('./native.js')).native;
