// --precision fp32|bf16|auto: the arithmetic precision of forwards (inference and training).
// bf16 runs the forward under autocast (bfloat16 convolutions and matmuls, float32 parameters);
// auto picks bf16 where it is fast: a CPU with native bf16 (AVX-512 BF16 or AMX-BF16) or a CUDA device.
// bf16 asked for on a CPU without native bf16 runs fp32, saying why: libtorch emulates bf16 there, 26.9x
// slower than fp32 (ResNet-50 embed on an AVX2-only AMD EPYC, issue 17) and less exact (docs/precision.md).
// NORMSOFTMAX_CPU_BF16=native (src/util/cpu-bf16.ts) runs emulated bf16 deliberately.
import { CPU_BF16_OVERRIDE, type CpuBf16Support, cpuBf16Support } from '../util/cpu-bf16.js';
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

/**
 * What a choice means on this machine for a device: auto is bf16 where bf16 is native (a CUDA device, a
 * CPU with AVX-512 BF16 or AMX-BF16), else fp32; bf16 on a CPU without native bf16 is fp32 too, and the
 * line says why. `cpu` injects the capability probe (tests).
 */
export function resolvePrecision(
  choice: PrecisionChoice,
  device: string,
  cpu: () => CpuBf16Support = cpuBf16Support,
): ResolvedPrecision {
  if (choice === 'fp32') return { precision: 'fp32', line: 'precision: fp32' };
  if (device !== 'cpu') {
    return {
      precision: 'bf16',
      line: choice === 'auto' ? `precision: bf16 (auto: ${device} device)` : 'precision: bf16',
    };
  }
  const support = cpu();
  if (choice === 'auto') {
    const precision: Precision = support.native ? 'bf16' : 'fp32';
    return { precision, line: `precision: ${precision} (auto: ${support.description})` };
  }
  if (support.native) {
    return {
      precision: 'bf16',
      line: support.overridden ? `precision: bf16 (${support.description})` : 'precision: bf16',
    };
  }
  return {
    precision: 'fp32',
    line:
      `precision: fp32 (bf16 asked, but this CPU has ${support.description}: emulated bf16 is ~27x slower; ` +
      `${CPU_BF16_OVERRIDE}=native runs it anyway)`,
  };
}

/**
 * Runs a forward at a precision on a device: fp32 as is, bf16 under autocast. The result is whatever
 * the forward returns (bf16 tensors under autocast): cast it back where float32 is needed.
 */
export function atPrecision<R>(precision: Precision, device: string, fn: () => R): R {
  if (precision === 'fp32') return fn();
  return withAutocast('bfloat16', fn, { deviceType: autocastDeviceType(device) });
}
