// Loads the libtorch addon built by native/build.mjs. Only src/tensor talks to it directly. (The search
// kernels load from the search addon, without libtorch: src/tensor/search-native.ts.)
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import type { NativeAddon } from './native-api.js';
import type { NativeName } from './native-names.js';
import { followLibtorchThreads } from './scan-threads.js';

export type { GeneratorHandle, Handle, NativeAddon } from './native-api.js';

// NativeAddon has a signature for every name in NATIVE_NAMES and nothing else (the names test checks
// NATIVE_NAMES against the built addon): a compile error here names the odd one out.
type Unlisted = Exclude<keyof NativeAddon, NativeName>;
type Untyped = Exclude<NativeName, keyof NativeAddon>;
const signaturesMatchNames: [Unlisted, Untyped] extends [never, never]
  ? true
  : { unlisted: Unlisted; untyped: Untyped } = true;
void signaturesMatchNames;

function findAddon(): string {
  // NORMSOFTMAX_ADDON: another build of the addon (a debug build, or one built with
  // -DNORMSOFTMAX_NO_X86_SIMD to test the portable kernels on x86).
  const override = process.env.NORMSOFTMAX_ADDON;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const path = override || join(root, 'native', 'build', 'normsoftmax.node');
  if (!existsSync(path)) {
    throw new Error(`native addon not built (${path} missing): run \`npm ci\` or \`npm run build:native\``);
  }
  return path;
}

const require = createRequire(import.meta.url);
// A plain copy: the addon's exports object has ~200 properties and is in dictionary mode, which
// makes every `native.x` lookup a hash probe; a spread copy gets fast properties.
export const native: NativeAddon = { ...require(findAddon()) };

// The intra-op thread count is the process's (libtorch keeps it in a global that every thread
// started later copies), so only the main thread sets it: a worker thread that loads this module
// (each image decode worker does) must not undo the user's --threads. libtorch's OpenMP pool may
// start with one thread on some systems (seen with Debian's build); use every core unless the user
// chose a count.
if (isMainThread) {
  if (!process.env.OMP_NUM_THREADS && !process.env.NORMSOFTMAX_THREADS) {
    native.setNumThreads(availableParallelism());
  } else if (process.env.NORMSOFTMAX_THREADS) {
    native.setNumThreads(Math.max(1, Number.parseInt(process.env.NORMSOFTMAX_THREADS, 10) || 1));
  }
}

// Scans that name no thread count use libtorch's in a thread that loaded it (src/tensor/scan-threads.ts).
followLibtorchThreads(() => native.getNumThreads());
