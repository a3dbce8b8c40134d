// Whether the CPU computes bfloat16 natively (AVX-512 BF16 or AMX-BF16): where it does, libtorch's
// bf16 kernels (oneDNN) run about twice as fast as fp32; elsewhere they emulate bf16 and are slower.
// Read from /proc/cpuinfo's flags on Linux; other systems report no native support (fp32 stays the
// default there, which is never slower).
// NORMSOFTMAX_CPU_BF16=native|none overrides the probe, for tests and diagnosis (run the AVX2-only path on a
// bf16 CPU: scripts/as-avx2-cpu.sh), and, set to native, to run emulated bf16 deliberately on a CPU without it.
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

export interface CpuBf16Support {
  /** The CPU has bf16 instructions libtorch uses. */
  native: boolean;
  /** The bf16 flags found (avx512_bf16, amx_bf16), in that order. */
  flags: string[];
  /** In words, for the "precision:" line and benchmark JSON. */
  description: string;
  /** Set by NORMSOFTMAX_CPU_BF16 rather than read from the CPU. */
  overridden?: true;
}

const BF16_FLAGS = ['avx512_bf16', 'amx_bf16'] as const;

/** The support a /proc/cpuinfo text shows (the first processor's "flags" line). */
export function bf16SupportFromCpuinfo(cpuinfo: string): CpuBf16Support {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '';
  const present = new Set(line.trim().split(/\s+/));
  const flags = BF16_FLAGS.filter((f) => present.has(f));
  const description =
    flags.length === 0
      ? 'no native bf16 (neither AVX-512 BF16 nor AMX-BF16)'
      : flags.includes('amx_bf16')
        ? 'CPU has AMX-BF16'
        : 'CPU has AVX-512 BF16';
  return { native: flags.length > 0, flags, description };
}

export const CPU_BF16_OVERRIDE = 'NORMSOFTMAX_CPU_BF16';

/** The support NORMSOFTMAX_CPU_BF16 states, or undefined when it is unset; another value is a UsageError. */
export function bf16SupportFromOverride(value: string | undefined): CpuBf16Support | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'native') {
    return { native: true, flags: [], description: `${CPU_BF16_OVERRIDE}=native`, overridden: true };
  }
  if (value === 'none') {
    return { native: false, flags: [], description: `no native bf16 (${CPU_BF16_OVERRIDE}=none)`, overridden: true };
  }
  throw new UsageError(`${CPU_BF16_OVERRIDE}: expected native or none, got "${value}"`);
}

let cached: CpuBf16Support | undefined;

/** This machine's support (read once), or what NORMSOFTMAX_CPU_BF16 says (read at every call). */
export function cpuBf16Support(): CpuBf16Support {
  const override = bf16SupportFromOverride(process.env[CPU_BF16_OVERRIDE]);
  if (override) return override;
  if (cached) return cached;
  let text = '';
  if (process.platform === 'linux') {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      // No /proc (a sandbox): report no native support.
    }
  }
  cached =
    text === ''
      ? { native: false, flags: [], description: 'no native bf16 (CPU flags unknown on this system)' }
      : bf16SupportFromCpuinfo(text);
  return cached;
}
