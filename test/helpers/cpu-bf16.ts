// The kind of CPU a bf16 test is on, for its name and for what it checks: on a CPU with native bf16
// (AVX-512 BF16, AMX-BF16) --precision bf16 runs bf16; on one without (an AVX2-only AMD EPYC, or
// scripts/as-avx2-cpu.sh here) it runs fp32, and only the library's bf16 path, called directly, is bf16.
import { cpuBf16Support } from '../../src/util/cpu-bf16.js';

export const CPU_BF16 = cpuBf16Support();

/** "native-bf16 CPU (CPU has AMX-BF16)" or "CPU without native bf16 (no native bf16 (...))". */
export const CPU_KIND = CPU_BF16.native
  ? `native-bf16 CPU (${CPU_BF16.description})`
  : `CPU without native bf16 (${CPU_BF16.description})`;

/** A test name that says which kind of CPU it checks. */
export const onThisCpu = (name: string) => `${name} [${CPU_KIND}]`;
