// The malloc policy (native/src/allocator.cpp): what glibc accepted, reported by allocatorPolicy(),
// and its effect: freed large tensors stay in the heap, so the next round does not fault them back in.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AllocatorPolicy } from '../../src/tensor/allocator.js';
import { mmapThreshold } from '../../src/tensor/allocator.js';
import { cannotApplyHere } from '../helpers/skip.js';
import { runChild } from './run-child.js';

interface Faults {
  policy: AllocatorPolicy;
  pagesPerRound: number;
  minorFaultsPerRound: number;
  majorFaultsPerRound: number;
  minorFaultsByRound: number[];
}

// The children must not inherit a malloc setting from whoever runs the tests.
const CLEAN = {
  NORMSOFTMAX_SYSTEM_MALLOC: undefined,
  MALLOC_MMAP_THRESHOLD_: undefined,
  MALLOC_TRIM_THRESHOLD_: undefined,
  GLIBC_TUNABLES: undefined,
};
// Node's diagnostic report names the glibc it runs on (absent with musl, macOS, Windows).
const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;

describe('malloc policy', {
  skip: cannotApplyHere(!glibc && 'the malloc policy is for glibc, and this libc is not glibc'),
}, () => {
  test('every mallopt call is checked and reported; the mmap threshold in effect is the one asked for', () => {
    const { policy } = runChild<Faults>('malloc-faults.ts', [], [], CLEAN);
    assert.equal(policy.active, true, policy.note);
    const mmap = policy.settings.filter((s) => s.name === 'M_MMAP_THRESHOLD');
    // 256 MiB where glibc takes it (2.36 does); glibc versions that cap it at 32 MiB refuse the first
    // call, and the cap is asked for next.
    assert.deepEqual(mmap[0], { name: 'M_MMAP_THRESHOLD', value: 256 * 2 ** 20, accepted: mmap.length === 1 });
    if (mmap.length === 2) assert.deepEqual(mmap[1], { name: 'M_MMAP_THRESHOLD', value: 32 * 2 ** 20, accepted: true });
    assert.ok([256 * 2 ** 20, 32 * 2 ** 20].includes(mmapThreshold(policy) as number));
    assert.deepEqual(policy.settings.at(-1), { name: 'M_TRIM_THRESHOLD', value: 2 ** 30, accepted: true });
  });

  test('freed 16 MiB tensors are reused without page faults under the policy, and faulted in without it', () => {
    const ours = runChild<Faults>('malloc-faults.ts', [], [], CLEAN);
    const system = runChild<Faults>('malloc-faults.ts', [], [], { ...CLEAN, NORMSOFTMAX_SYSTEM_MALLOC: '1' });
    assert.equal(system.policy.active, false);
    assert.deepEqual(system.policy.settings, []);
    assert.match(system.policy.note, /NORMSOFTMAX_SYSTEM_MALLOC/);
    const pages = ours.pagesPerRound; // 8192
    // Under the policy the two blocks come back from the heap: a few faults of Node's own (the median
    // round; one round may still fault its blocks in when the heap grows once more).
    assert.ok(
      ours.minorFaultsPerRound < pages / 20,
      `policy: median ${ours.minorFaultsPerRound} faults per round (${ours.minorFaultsByRound.join(' ')})`,
    );
    // glibc's defaults give the 32 MiB back at every free (its trim threshold follows the blocks' size),
    // so every page is faulted in again (fewer with transparent huge pages).
    assert.ok(
      system.minorFaultsPerRound > 10 * Math.max(ours.minorFaultsPerRound, 10),
      `glibc defaults: median ${system.minorFaultsPerRound} faults per round (${system.minorFaultsByRound.join(' ')}), policy: ${ours.minorFaultsPerRound}`,
    );
    assert.equal(ours.majorFaultsPerRound, 0);
  });
});
