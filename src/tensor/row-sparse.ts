// Row-sparse gradients for large parameters of which each step touches only a few rows (NormSoftmax's
// class weights under class subsampling). A loss calls gatherRows(param, rows): it returns param[rows]
// as a fresh autograd leaf, so backward() fills a [k, d] gradient and never a dense one. The
// optimisers pick it up with takeRowGrad(param) and update only those rows of the parameter and of its
// optimiser state (lazy, like torch's sparse optimisers). param.grad stays null for such steps.
import { isGradEnabled, keep, noGrad, scope, type Tensor, tensor, zeros } from './index.js';

export interface RowGrad {
  /** Distinct row indices of the parameter, int64 [k], ascending. */
  rows: Tensor;
  /** Gradient of those rows, [k, ...param.shape.slice(1)]. */
  values: Tensor;
}

interface Gathered {
  rows: number[];
  rowsTensor: Tensor;
  leaf: Tensor;
}

const pending = new WeakMap<Tensor, Gathered[]>();

/**
 * param[rows] (rows: distinct indices) as a new leaf whose gradient will be applied to those rows of
 * param by the optimiser. With grad mode off it is a plain index_select. The leaf is owned here and
 * freed by the optimiser's step()/zeroGrad() (or clearRowGrads).
 */
export function gatherRows(param: Tensor, rows: readonly number[]): Tensor {
  const rowsTensor = tensor(BigInt64Array.from(rows, BigInt)).to(param.device);
  if (!isGradEnabled() || !param.requiresGrad) return param.indexSelect(0, rowsTensor);
  const leaf = noGrad(() => param.indexSelect(0, rowsTensor)).requiresGrad_(true);
  keep([leaf, rowsTensor]);
  const list = pending.get(param) ?? [];
  list.push({ rows: [...rows], rowsTensor, leaf });
  pending.set(param, list);
  return leaf;
}

/** Whether gatherRows() was called for param since the last clear. */
export function hasRowGrad(param: Tensor): boolean {
  return (pending.get(param)?.length ?? 0) > 0;
}

/**
 * The accumulated row gradient of param (rows made distinct and ascending; gradients of repeated rows
 * summed), or null when no gathered leaf has received a gradient. The caller owns the returned tensors.
 */
export function takeRowGrad(param: Tensor): RowGrad | null {
  const parts = (pending.get(param) ?? []).flatMap((g) => {
    const grad = g.leaf.grad;
    return grad === null ? [] : [{ rows: g.rows, rowsTensor: g.rowsTensor, grad }];
  });
  if (parts.length === 0) return null;
  const union = [...new Set(parts.flatMap((p) => p.rows))].sort((a, b) => a - b);
  const single = parts.length === 1 ? parts[0] : undefined;
  if (single && isAscendingDistinct(single.rows)) return { rows: single.rowsTensor.clone(), values: single.grad };
  return scope(() => {
    const position = new Map(union.map((r, i) => [r, i]));
    const rows = tensor(BigInt64Array.from(union, BigInt)).to(param.device);
    const values = zeros([union.length, ...param.shape.slice(1)], { dtype: param.dtype, device: param.device });
    for (const p of parts) {
      const at = tensor(BigInt64Array.from(p.rows, (r) => BigInt(position.get(r) as number))).to(param.device);
      values.indexAdd_(0, at, p.grad);
    }
    return { rows, values };
  });
}

/** Forgets param's gathered leaves (their gradients included). */
export function clearRowGrads(param: Tensor): void {
  for (const g of pending.get(param) ?? []) {
    g.leaf.dispose();
    g.rowsTensor.dispose();
  }
  pending.delete(param);
}

function isAscendingDistinct(rows: readonly number[]): boolean {
  for (let i = 1; i < rows.length; i++) if ((rows[i] as number) <= (rows[i - 1] as number)) return false;
  return true;
}
