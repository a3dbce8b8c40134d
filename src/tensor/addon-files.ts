// Where the two addons that native/build.mjs builds are: the libtorch addon (src/tensor/native.ts loads it)
// and the search addon, the exact search kernels without libtorch (src/tensor/search-native.ts).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const buildDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build');

/** The libtorch addon; throws when it is not built. */
export function libtorchAddonFile(): string {
  // NORMSOFTMAX_ADDON: another build of the addon (a debug build, or one built with
  // -DNORMSOFTMAX_NO_X86_SIMD to test the portable kernels on x86).
  const override = process.env.NORMSOFTMAX_ADDON;
  const path = override || join(buildDir, 'normsoftmax.node');
  if (!existsSync(path)) {
    throw new Error(`native addon not built (${path} missing): run \`npm ci\` or \`npm run build:native\``);
  }
  return path;
}

/** The search addon, or null where it was not built (a build from before it existed). */
export function searchAddonPath(env: NodeJS.ProcessEnv = process.env, dir = buildDir): string | null {
  // NORMSOFTMAX_SEARCH_ADDON: another build of the search addon (as NORMSOFTMAX_ADDON for the other).
  const override = env.NORMSOFTMAX_SEARCH_ADDON;
  if (override) {
    if (!existsSync(override)) throw new Error(`NORMSOFTMAX_SEARCH_ADDON: ${override} does not exist`);
    return override;
  }
  const path = join(dir, 'normsoftmax_search.node');
  return existsSync(path) ? path : null;
}
