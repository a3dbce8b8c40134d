// Row-sparse gradients for large parameters of which each step touches only a few rows (NormSoftmax's
// class weights under class subsampling). A loss calls gatherRows(param, rows): it returns param[rows]
// as a fresh autograd leaf, so backward() fills a [k, d] gradient and never a dense one. The
// optimisers pick it up with takeRowGrad(param) and update only those rows of the parameter and of its
// optimiser state (lazy, like torch's sparse optimisers). param.grad stays null for such steps.
//
// Lifetime. A gathered leaf must outlive the scope of its forward() only while a gradient may still be
// taken from it, so each gathering is settled when the scope it was made in ends (unless an optimiser's
// step()/zeroGrad() took or cleared it first):
// - the leaf holds a gradient (backward ran, no step yet): the gradient is folded into the parameter's
//   accumulated row gradient, one [k, d] tensor per parameter that the next step applies, as a dense
//   .grad would accumulate (zeroGrad() drops it); the leaf is freed;
// - no gradient, and the tensor the loss anchored it on (its output, see anchorRows) is still alive
//   outside this scope (returned to the caller, who may call backward() later): the gathering moves
//   to the scope that now owns that tensor (none: it waits for the optimiser);
// - otherwise nobody can take a gradient from it any more: it is freed.
// Outside every scope a gathering waits for the optimiser; a later gatherRows() of the same parameter
// folds the earlier leaves that already hold a gradient, so repeated forward+backward stays bounded.
import { isGradEnabled, keep, noGrad, scope, type Tensor, tensor, zeros } from './index.js';
import { type Disposable, track } from './scope.js';

export interface RowGrad {
  /** Distinct row indices of the parameter, int64 [k], ascending. */
  rows: Tensor;
  /** Gradient of those rows, [k, ...param.shape.slice(1)]. */
  values: Tensor;
}

interface Gathering extends Disposable {
  param: Tensor;
  rows: number[];
  rowsTensor: Tensor;
  leaf: Tensor;
  anchor: Tensor | null;
  settled: boolean;
  /** The scope frame that settles it (disposeFrame clears _scopeFrame before calling dispose()). */
  home: Disposable[] | null;
}

/** A row gradient folded out of leaves that are gone: rows ascending and distinct (kept tensors). */
interface Accumulated {
  rows: number[];
  rowsTensor: Tensor;
  values: Tensor;
}

const pending = new WeakMap<Tensor, Gathering[]>();
const accumulated = new WeakMap<Tensor, Accumulated>();
const byLeaf = new WeakMap<Tensor, Gathering>();

/**
 * param[rows] (rows: distinct indices) as a new leaf whose gradient will be applied to those rows of
 * param by the optimiser. With grad mode off it is a plain index_select. The leaf is owned here (see
 * the lifetime rules above); do not dispose it.
 */
export function gatherRows(param: Tensor, rows: readonly number[]): Tensor {
  const rowsTensor = tensor(BigInt64Array.from(rows, BigInt)).to(param.device);
  if (!isGradEnabled() || !param.requiresGrad) return param.indexSelect(0, rowsTensor);
  foldGradients(param);
  const leaf = noGrad(() => param.indexSelect(0, rowsTensor)).requiresGrad_(true);
  keep([leaf, rowsTensor]);
  const g: Gathering = {
    param,
    rows: [...rows],
    rowsTensor,
    leaf,
    anchor: null,
    settled: false,
    home: null,
    _scopeFrame: null,
    get isDisposed() {
      return this.settled;
    },
    dispose() {
      settle(this);
    },
    _unscoped() {},
  };
  track(g);
  g.home = g._scopeFrame as Disposable[] | null;
  const list = pending.get(param) ?? [];
  list.push(g);
  pending.set(param, list);
  byLeaf.set(leaf, g);
  return leaf;
}

/**
 * Ties a gathered leaf to the tensor computed from it that the caller receives (a loss's output):
 * while that tensor lives on past the leaf's scope, the leaf does too. Returns `output`.
 */
export function anchorRows(leaf: Tensor, output: Tensor): Tensor {
  const g = byLeaf.get(leaf);
  if (g && !g.settled) g.anchor = output;
  return output;
}

/** Whether param has a row gradient to apply, or gathered leaves that may still receive one. */
export function hasRowGrad(param: Tensor): boolean {
  return (pending.get(param)?.length ?? 0) > 0 || accumulated.has(param);
}

/** How many gathered leaves of param are alive (diagnostics and tests). */
export function gatheredLeafCount(param: Tensor): number {
  return pending.get(param)?.length ?? 0;
}

/**
 * The accumulated row gradient of param (rows made distinct and ascending; gradients of repeated rows
 * summed), or null when no gathered leaf has received a gradient. The caller owns the returned tensors.
 */
export function takeRowGrad(param: Tensor): RowGrad | null {
  const acc = accumulated.get(param);
  const parts: { rows: number[]; rowsTensor: Tensor; grad: Tensor }[] = acc
    ? [{ rows: acc.rows, rowsTensor: acc.rowsTensor, grad: acc.values.clone() }]
    : [];
  for (const g of pending.get(param) ?? []) {
    const grad = g.leaf.grad;
    if (grad !== null) parts.push({ rows: g.rows, rowsTensor: g.rowsTensor, grad });
  }
  if (parts.length === 0) return null;
  const single = parts.length === 1 ? parts[0] : undefined;
  if (single && isAscendingDistinct(single.rows)) return { rows: single.rowsTensor.clone(), values: single.grad };
  const union = [...new Set(parts.flatMap((p) => p.rows))].sort((a, b) => a - b);
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

/**
 * param's accumulated row gradient itself (not a copy; leaves that hold a gradient are folded in
 * first), or null when there is none: data-parallel training averages it in place across ranks.
 */
export function accumulatedRowGrad(param: Tensor): Tensor | null {
  foldGradients(param);
  return accumulated.get(param)?.values ?? null;
}

/** Forgets param's gathered leaves and accumulated row gradient. */
export function clearRowGrads(param: Tensor): void {
  for (const g of pending.get(param) ?? []) release(g);
  pending.delete(param);
  const acc = accumulated.get(param);
  if (acc) {
    acc.rowsTensor.dispose();
    acc.values.dispose();
    accumulated.delete(param);
  }
}

/** The end of the scope a gathering was made in (see the lifetime rules at the top). */
function settle(g: Gathering): void {
  if (g.settled) return;
  const frame = g.home;
  g._scopeFrame = null;
  g.home = null;
  if (g.leaf.isDisposed) {
    forget(g);
    return;
  }
  if (noGrad(() => scope(() => g.leaf.grad !== null))) {
    foldGradients(g.param);
    return;
  }
  const anchor = g.anchor;
  if (anchor !== null && !anchor.isDisposed && anchor._scopeFrame !== frame) {
    // The output outlives this scope: so does the gathering, in the output's scope (if any).
    const owner = anchor._scopeFrame as Disposable[] | null;
    if (owner !== null) {
      owner.push(g);
      g._scopeFrame = owner;
      g.home = owner;
    }
    return;
  }
  forget(g);
}

/** Moves the gradients of param's leaves that hold one into its accumulated row gradient. */
function foldGradients(param: Tensor): void {
  const list = pending.get(param);
  if (!list) return;
  const withGrad = noGrad(() => scope(() => list.filter((g) => !g.leaf.isDisposed && g.leaf.grad !== null)));
  if (withGrad.length === 0) return;
  const merged = noGrad(() => scope(() => keep(takeRowGrad(param) as RowGrad)));
  const old = accumulated.get(param);
  if (old) {
    old.rowsTensor.dispose();
    old.values.dispose();
  }
  accumulated.set(param, { rows: merged.rows.toArray(), rowsTensor: merged.rows, values: merged.values });
  for (const g of withGrad) forget(g);
}

/** Frees a gathering's tensors and drops it from its parameter's list. */
function forget(g: Gathering): void {
  release(g);
  const list = pending.get(g.param);
  if (!list) return;
  const rest = list.filter((x) => x !== g);
  if (rest.length > 0) pending.set(g.param, rest);
  else pending.delete(g.param);
}

function release(g: Gathering): void {
  g.settled = true;
  g.anchor = null;
  if (!g.leaf.isDisposed) g.leaf.dispose();
  if (!g.rowsTensor.isDisposed) g.rowsTensor.dispose();
}

function isAscendingDistinct(rows: readonly number[]): boolean {
  for (let i = 1; i < rows.length; i++) if ((rows[i] as number) <= (rows[i - 1] as number)) return false;
  return true;
}
