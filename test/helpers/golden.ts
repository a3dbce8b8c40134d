// Loads the JSON golden fixtures written by tools/golden/*.py (see tools/golden/common.py).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DType, type Tensor, tensor } from '../../src/tensor/index.js';

export const GOLDEN_DIR = join(import.meta.dirname, '..', 'fixtures', 'golden');

interface JsonTensor {
  shape: number[];
  dtype: DType;
  data: number[];
}

export interface Golden {
  tensors: Record<string, Tensor>;
  extra: Record<string, unknown>;
}

export function loadGoldenJson(name: string): Golden {
  const doc = JSON.parse(readFileSync(join(GOLDEN_DIR, name), 'utf8')) as {
    tensors: Record<string, JsonTensor>;
    extra: Record<string, unknown>;
  };
  const tensors: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(doc.tensors)) tensors[k] = tensor(v.data, { shape: v.shape, dtype: v.dtype });
  return { tensors, extra: doc.extra };
}

/** Largest absolute elementwise difference between two tensors of the same shape. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shape mismatch: [${a.shape}] vs [${b.shape}]`);
  const x = a.to('float64').toTypedArray() as Float64Array;
  const y = b.to('float64').toTypedArray() as Float64Array;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] as number) - (y[i] as number)));
  return m;
}
