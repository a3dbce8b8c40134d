// Finite-difference gradient checks: autograd's gradients against central differences, in float64.
import assert from 'node:assert/strict';
import { Generator, noGrad, randn, scope, type Tensor, tensor } from '../../src/tensor/index.js';

export interface GradcheckOptions {
  /** Step of the central difference. */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Name used in failure messages. */
  label?: string;
}

/**
 * Checks d/dx of L = sum(fn(...inputs) * w), for a fixed random weighting w (so that no symmetric
 * upstream gradient hides an error), against (L(x + eps) - L(x - eps)) / (2 eps) for every element of
 * every input. Inputs must be float64; anything fn needs that is not differentiated (indices, targets)
 * belongs in its closure. Frees everything it creates.
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  { eps = 1e-6, atol = 1e-7, rtol = 1e-5, label = 'gradcheck' }: GradcheckOptions = {},
): void {
  scope(() => {
    for (const [i, x] of inputs.entries()) {
      assert.equal(x.dtype, 'float64', `${label}: input ${i} must be float64, is ${x.dtype}`);
    }
    const weights = noGrad(() => randn(fn(...inputs).shape, { dtype: 'float64', generator: new Generator(7) }));
    const loss = (xs: readonly Tensor[]): Tensor =>
      fn(...xs)
        .mul(weights)
        .sum();

    const leaves = inputs.map((x) => x.detach().clone().requiresGrad_(true));
    loss(leaves).backward();

    for (const [i, x] of inputs.entries()) {
      const grad = leaves[i]?.grad;
      assert.ok(grad, `${label}: no gradient reached input ${i}`);
      const analytic = grad.toTypedArray() as Float64Array;
      const base = x.contiguous().toTypedArray() as Float64Array;
      const lossAt = (j: number, value: number): number =>
        scope(() => {
          const data = Float64Array.from(base);
          data[j] = value;
          const moved = tensor(data, { shape: x.shape });
          return noGrad(() => loss(inputs.map((y, k) => (k === i ? moved : y))).item());
        });
      for (let j = 0; j < base.length; j++) {
        const v = base[j] as number;
        const numeric = (lossAt(j, v + eps) - lossAt(j, v - eps)) / (2 * eps);
        const a = analytic[j] as number;
        const ok = Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric);
        assert.ok(ok, `${label}: d/d input ${i} [${j}]: autograd ${a}, central difference ${numeric}`);
      }
    }
  });
}
