// Prints the allocator policy and the minor page faults per round of a training-step-like pattern:
// two tensors (16 MiB, or the MiB given as the first argument) allocated, written and freed. Under the policy the heap first grows to a few times
// the working set (small allocations between rounds split freed blocks), then rounds stop faulting;
// the warm-up covers that growth. Faults are counted round by round and the median reported: a heap that
// grows once more inside the window, or the kernel's NUMA balancing unmapping pages to sample them, adds one
// round's worth to a single round (a mean of 411 per round on one CI machine), not to the steady state.
// Run by test/tensor/allocator.test.ts, with and
// without NORMSOFTMAX_SYSTEM_MALLOC=1 (the policy is applied when the addon loads).
import { allocatorPolicy } from '../../../src/tensor/allocator.js';
import { empty } from '../../../src/tensor/index.js';

const BLOCK_FLOATS = Number(process.argv[2] ?? 16) * 256 * 1024;
const BLOCKS = 2;
const ROUNDS = 20;
const WARM_UP = 80;

function round(): void {
  const ts = Array.from({ length: BLOCKS }, () => empty([BLOCK_FLOATS]).fill_(1));
  for (const t of ts) t.dispose();
}

for (let i = 0; i < WARM_UP; i++) round();
const minor: number[] = [];
const major: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const before = process.resourceUsage();
  round();
  const after = process.resourceUsage();
  minor.push(after.minorPageFault - before.minorPageFault);
  major.push(after.majorPageFault - before.majorPageFault);
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2;
};
process.stdout.write(
  JSON.stringify({
    policy: allocatorPolicy(),
    pagesPerRound: (BLOCKS * BLOCK_FLOATS * 4) / 4096,
    minorFaultsPerRound: median(minor),
    majorFaultsPerRound: median(major),
    minorFaultsByRound: minor,
  }),
);
