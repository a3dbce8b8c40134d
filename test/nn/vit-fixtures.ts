// The ViT goldens of tools/golden/vit.py (test/fixtures/golden/vit/): tensors by name, the weights under
// "weights." as a state dict, and the comparison the parity tests make.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { scope, type Tensor } from '../../src/tensor/index.js';
import { GOLDEN_DIR, maxAbsDiff } from '../helpers/golden.js';

export const VIT_GOLDEN_DIR = join(GOLDEN_DIR, 'vit');

export interface VitGolden {
  /** Every tensor of the file by its name. */
  t: Record<string, Tensor>;
  /** The model's state dict (the "weights." tensors without the prefix). */
  weights(prefix?: string): Record<string, Tensor>;
}

export function vitGolden(name: string): VitGolden {
  const t = loadSafetensors(join(VIT_GOLDEN_DIR, name)).tensors;
  return {
    t,
    weights(prefix = 'weights.') {
      const out: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(t)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
      return out;
    },
  };
}

/** Asserts max |got - want| < tol, and returns the difference and the cosine of the flattened tensors. */
export function assertClose(got: Tensor, want: Tensor, tol: number, what: string): { diff: number; cosine: number } {
  const diff = maxAbsDiff(got, want);
  const cosine = scope(() => {
    const a = got.flatten();
    const b = want.flatten();
    return a.mul(b).sum().item() / (a.norm().item() * b.norm().item());
  });
  assert.ok(diff < tol, `${what}: max abs diff ${diff} (tolerance ${tol}), cosine ${cosine}`);
  return { diff, cosine };
}
