// The process's malloc policy for tensor storage (native/src/allocator.cpp), as applied at load.

import { native } from './native.js';
import type { NativeAllocatorPolicy } from './native-api.js';

export type { NativeMallocSetting as MallocSetting } from './native-api.js';
export type AllocatorPolicy = NativeAllocatorPolicy;

/**
 * What the addon asked of glibc's malloc when the process first loaded it, and what glibc accepted.
 * NORMSOFTMAX_SYSTEM_MALLOC=1 (or your own MALLOC_*_THRESHOLD_) keeps glibc's defaults.
 */
export function allocatorPolicy(): AllocatorPolicy {
  return native.allocatorPolicy();
}

/** The mmap threshold in effect under our policy (the last accepted M_MMAP_THRESHOLD), or null. */
export function mmapThreshold(policy: AllocatorPolicy = allocatorPolicy()): number | null {
  const accepted = policy.settings.filter((s) => s.name === 'M_MMAP_THRESHOLD' && s.accepted);
  return accepted.at(-1)?.value ?? null;
}
