// --precision fp32|bf16|auto: the arithmetic precision of forwards (inference and training).
// bf16 runs the forward under autocast (bfloat16 convolutions and matmuls, float32 parameters);
// auto picks bf16 where it is fast: a CPU with native bf16 (AVX-512 BF16 or AMX-BF16) or a CUDA device.
import { type CpuBf16Support, cpuBf16Support } from '../util/cpu-bf16.js';
import { UsageError } from '../util/errors.js';
import { autocastDeviceType, withAutocast } from './autocast.js';

export type Precision = 'fp32' | 'bf16';
export type PrecisionChoice = Precision | 'auto';
export const PRECISION_CHOICES: readonly PrecisionChoice[] = ['fp32', 'bf16', 'auto'];

/** A --precision flag's value; anything else is a UsageError naming the flag. */
export function parsePrecision(value: string, flag = '--precision'): PrecisionChoice {
  if ((PRECISION_CHOICES as readonly string[]).includes(value)) return value as PrecisionChoice;
  throw new UsageError(`${flag}: expected fp32, bf16 or auto, got "${value}"`);
}

export interface ResolvedPrecision {
  precision: Precision;
  /** The line to print once: "precision: bf16 (auto: CPU has AMX-BF16)". */
  line: string;
}

/** What auto means on this machine for a device; `cpu` injects the capability probe (tests). */
export function resolvePrecision(
  choice: PrecisionChoice,
  device: string,
  cpu: () => CpuBf16Support = cpuBf16Support,
): ResolvedPrecision {
  if (choice !== 'auto') return { precision: choice, line: `precision: ${choice}` };
  if (device !== 'cpu') return { precision: 'bf16', line: `precision: bf16 (auto: ${device} device)` };
  const support = cpu();
  const precision: Precision = support.native ? 'bf16' : 'fp32';
  return { precision, line: `precision: ${precision} (auto: ${support.description})` };
}

/**
 * Runs a forward at a precision on a device: fp32 as is, bf16 under autocast. The result is whatever
 * the forward returns (bf16 tensors under autocast): cast it back where float32 is needed.
 */
export function atPrecision<R>(precision: Precision, device: string, fn: () => R): R {
  if (precision === 'fp32') return fn();
  return withAutocast('bfloat16', fn, { deviceType: autocastDeviceType(device) });
}
