// Elementwise closeness of tensors and arrays, with a message that names the worst element.
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/tensor/index.js';

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

function values(x: Tensor | readonly number[]): { data: ArrayLike<number>; shape: readonly number[] } {
  if (Array.isArray(x)) return { data: x, shape: [x.length] };
  const t = x as Tensor;
  const f = t.to('float64');
  try {
    return { data: f.toTypedArray() as Float64Array, shape: t.shape };
  } finally {
    f.dispose();
  }
}

/** Asserts |actual - expected| <= atol + rtol * |expected| everywhere (float32 defaults), and equal shapes. */
export function assertClose(
  actual: Tensor | readonly number[],
  expected: Tensor | readonly number[],
  { rtol = 1e-5, atol = 1e-6 }: Tolerance = {},
  label = '',
): void {
  const a = values(actual);
  const e = values(expected);
  if (!Array.isArray(actual) && !Array.isArray(expected)) {
    assert.deepEqual(a.shape, e.shape, `${label}: shape [${a.shape}] vs expected [${e.shape}]`);
  }
  assert.equal(a.data.length, e.data.length, `${label}: ${a.data.length} values vs ${e.data.length} expected`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i] as number;
    const y = e.data[i] as number;
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${label}: element ${worst} is ${a.data[worst]}, expected ${e.data[worst]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}
