// Loads the libtorch addon built by native/build.mjs. Only src/tensor talks to it directly.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeName } from './native-names.js';

/** An opaque reference to a native at::Tensor (a BigInt naming a slot of the addon's handle table). */
export type Handle = { readonly __tensorHandle: unique symbol };
/** An opaque reference to a native at::Generator. */
export type GeneratorHandle = { readonly __generatorHandle: unique symbol };

// The addon's functions are typed loosely here; src/tensor gives them precise signatures.
// biome-ignore lint/suspicious/noExplicitAny: the addon boundary is validated by the typed wrappers.
export type NativeAddon = Record<NativeName, (...args: any[]) => any>;

function findAddon(): string {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const path = join(root, 'native', 'build', 'normsoftmax.node');
  if (!existsSync(path)) {
    throw new Error(`native addon not built (${path} missing): run \`npm ci\` or \`npm run build:native\``);
  }
  return path;
}

const require = createRequire(import.meta.url);
// A plain copy: the addon's exports object has ~200 properties and is in dictionary mode, which
// makes every `native.x` lookup a hash probe; a spread copy gets fast properties.
export const native: NativeAddon = { ...require(findAddon()) };

// libtorch's OpenMP pool may start with one thread on some systems (seen with Debian's build);
// use every core unless the user chose a count.
if (!process.env.OMP_NUM_THREADS && !process.env.NORMSOFTMAX_THREADS) {
  native.setNumThreads(availableParallelism());
} else if (process.env.NORMSOFTMAX_THREADS) {
  native.setNumThreads(Math.max(1, Number.parseInt(process.env.NORMSOFTMAX_THREADS, 10) || 1));
}
