// --precision fp32|bf16|auto (index build: --compute-precision, its --precision is the stored vectors'):
// parsed, resolved for the device (auto: bf16 on a CPU with native bf16 or on CUDA; bf16: the same, fp32 on a
// CPU without native bf16, where emulated bf16 is ~27x slower) and printed once.
import { type Precision, parsePrecision, resolvePrecision } from '../tensor/precision.js';

/** The precision to run at; prints "precision: ..." (to stderr) when the flag was given. */
export function precisionFromFlag(
  value: string | undefined,
  o: { device?: string; flag?: string; log?: (line: string) => void } = {},
): Precision {
  if (value === undefined) return 'fp32';
  const resolved = resolvePrecision(parsePrecision(value, o.flag), o.device ?? 'cpu');
  (o.log ?? ((line: string) => console.error(line)))(resolved.line);
  return resolved.precision;
}
