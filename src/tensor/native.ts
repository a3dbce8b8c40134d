// Loads the libtorch addon built by native/build.mjs. Only src/tensor talks to it directly. (The search
// kernels load from the search addon, without libtorch: src/tensor/search-native.ts.)
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { libtorchAddonFile } from './addon-files.js';
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

const require = createRequire(import.meta.url);
// A plain copy: the addon's exports object has ~200 properties and is in dictionary mode, which
// makes every `native.x` lookup a hash probe; a spread copy gets fast properties.
export const native: NativeAddon = { ...require(libtorchAddonFile()) };

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
