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

  test('freed tensors are reused without page faults under the policy, and faulted in without it', () => {
    const ours = runChild<Faults>('malloc-faults.ts', ['16'], [], CLEAN);
    const pages = ours.pagesPerRound; // 8192 (two 16 MiB blocks)
    assert.equal(pages, 8192);
    // Under the policy the two blocks come back from the heap: a few faults of Node's own (the median
    // round; a round may still fault a block in when the heap grows once more).
    assert.ok(
      ours.minorFaultsPerRound < pages / 20,
      `policy: median ${ours.minorFaultsPerRound} faults per round (${ours.minorFaultsByRound.join(' ')})`,
    );
    // Without the policy: blocks above 32 MiB, glibc's most for its dynamic mmap threshold
    // (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit), are mmapped at every allocation and unmapped at every free,
    // so every round faults every page in. (16 MiB blocks sit at the dynamic threshold's edge: whether
    // glibc trims them depends on the small allocations around them, so they faulted in some runs and not
    // in others.) Where glibc caps the policy's threshold at 32 MiB, the policy cannot keep them either.
    if (mmapThreshold(ours.policy) !== 256 * 2 ** 20) return;
    const big = runChild<Faults>('malloc-faults.ts', ['40'], [], CLEAN);
    const system = runChild<Faults>('malloc-faults.ts', ['40'], [], { ...CLEAN, NORMSOFTMAX_SYSTEM_MALLOC: '1' });
    assert.equal(system.policy.active, false);
    assert.deepEqual(system.policy.settings, []);
    assert.match(system.policy.note, /NORMSOFTMAX_SYSTEM_MALLOC/);
    const bigPages = system.pagesPerRound; // 20,480
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.ok(
      Math.min(...system.minorFaultsByRound) >= bigPages,
      `glibc defaults: ${system.minorFaultsByRound.join(' ')} faults by round, expected each >= ${bigPages}`,
    );
    // Under the policy most rounds reuse the blocks (a few fault one in while the heap still grows).
    assert.ok(
      sum(big.minorFaultsByRound) < sum(system.minorFaultsByRound) / 2,
      `policy: ${big.minorFaultsByRound.join(' ')} faults by round, glibc defaults ${sum(system.minorFaultsByRound)} in all`,
    );
    assert.equal(ours.majorFaultsPerRound, 0);
  });
});
