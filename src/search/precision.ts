// How float vectors are stored: f32 as is; f16 as IEEE half floats (round to nearest even); i8 as
// round(x / scale) with one scale per vector (scale = max |x| / 127), dequantised x = q * scale.
// All little-endian. Vectors are unit length at full precision; f16 and i8 ones are unit length within
// their rounding error until they are renormalised on load (see dequantize).
import type { VectorPrecision } from './types.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half-float bits of x, rounded to nearest even (overflow gives infinity). */
export function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0] as number;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export interface EncodedVectors {
  /** The vectors file's bytes. */
  vectors: Uint8Array;
  /** i8 only: one float32 scale per vector. */
  scales: Uint8Array | null;
}

/** Encodes n x dim float32 vectors (row-major) at a precision. */
export function quantize(x: Float32Array, dim: number, precision: VectorPrecision): EncodedVectors {
  const n = dim === 0 ? 0 : x.length / dim;
  if (precision === 'f32')
    return { vectors: new Uint8Array(x.buffer, x.byteOffset, x.byteLength).slice(), scales: null };
  if (precision === 'f16') {
    const h = new Uint16Array(x.length);
    for (let i = 0; i < x.length; i++) h[i] = toHalf(x[i] as number);
    return { vectors: new Uint8Array(h.buffer), scales: null };
  }
  const q = new Int8Array(x.length);
  const scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let max = 0;
    for (let j = r * dim; j < (r + 1) * dim; j++) max = Math.max(max, Math.abs(x[j] as number));
    const scale = Math.fround(max / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let j = r * dim; j < (r + 1) * dim; j++)
      q[j] = Math.max(-127, Math.min(127, Math.round((x[j] as number) / scale)));
  }
  return { vectors: new Uint8Array(q.buffer), scales: new Uint8Array(scales.buffer) };
}

/** Bytes of one stored vector component. */
export function bytesPerValue(precision: VectorPrecision): number {
  return precision === 'f32' ? 4 : precision === 'f16' ? 2 : 1;
}

/**
 * Decodes stored vectors into float32 (row-major n x dim). With `renormalise`, each row is scaled back to
 * unit length (what search uses, so that inner products are cosines of the stored vectors).
 */
export function dequantize(
  bytes: Uint8Array,
  scales: Uint8Array | null,
  n: number,
  dim: number,
  precision: VectorPrecision,
  o: { renormalise: boolean; into?: Float32Array },
): Float32Array {
  const out = o.into ?? new Float32Array(n * dim);
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (precision === 'f32') out.set(new Float32Array(aligned.buffer, aligned.byteOffset, n * dim));
  else if (precision === 'f16') {
    const h = new Uint16Array(aligned.buffer, aligned.byteOffset, n * dim);
    for (let i = 0; i < h.length; i++) out[i] = fromHalf(h[i] as number);
  } else {
    const q = new Int8Array(bytes.buffer, bytes.byteOffset, n * dim);
    if (!scales) throw new Error('i8 vectors need their scales');
    const s = new Float32Array(scales.slice().buffer);
    for (let r = 0; r < n; r++) {
      const scale = s[r] as number;
      for (let j = r * dim; j < (r + 1) * dim; j++) out[j] = (q[j] as number) * scale;
    }
  }
  if (o.renormalise && precision !== 'f32') normaliseRows(out, dim);
  return out;
}

/** Scales each row to unit L2 norm in place (zero rows stay zero). */
export function normaliseRows(x: Float32Array, dim: number): Float32Array {
  for (let r = 0; r * dim < x.length; r++) {
    let ss = 0;
    for (let j = r * dim; j < (r + 1) * dim; j++) ss += (x[j] as number) ** 2;
    if (ss === 0) continue;
    const inv = 1 / Math.sqrt(ss);
    for (let j = r * dim; j < (r + 1) * dim; j++) x[j] = (x[j] as number) * inv;
  }
  return x;
}
