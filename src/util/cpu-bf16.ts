// Whether the CPU computes bfloat16 natively (AVX-512 BF16 or AMX-BF16): where it does, libtorch's
// bf16 kernels (oneDNN) run about twice as fast as fp32; elsewhere they emulate bf16 and are slower.
// Read from /proc/cpuinfo's flags on Linux; other systems report no native support (fp32 stays the
// default there, which is never slower).
import { readFileSync } from 'node:fs';

export interface CpuBf16Support {
  /** The CPU has bf16 instructions libtorch uses. */
  native: boolean;
  /** The bf16 flags found (avx512_bf16, amx_bf16), in that order. */
  flags: string[];
  /** In words, for the "precision:" line and benchmark JSON. */
  description: string;
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

let cached: CpuBf16Support | undefined;

/** This machine's support (read once). */
export function cpuBf16Support(): CpuBf16Support {
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
