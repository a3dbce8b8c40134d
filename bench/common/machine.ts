// What a benchmark ran on, for its JSON output.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpu: string;
  logicalCores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1-minute load average when the run started: other work on the machine skews timings. */
  loadAverage1m: number;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    logicalCores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** The CPU's vector and matrix extensions (AVX2, AVX-512 *, AMX *) from /proc/cpuinfo: which kernels can run. */
export function cpuFlags(): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return [];
  }
  const flags = /^flags\s*:\s*(.*)$/m.exec(text)?.[1]?.split(/\s+/) ?? [];
  return flags.filter((f) => /^(avx2|avx512|amx|fma|f16c)/.test(f)).sort();
}
