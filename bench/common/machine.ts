// What a benchmark ran on, for its JSON output.
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
