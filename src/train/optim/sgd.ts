// Stochastic gradient descent with momentum, exactly as torch.optim.SGD (maximize=False):
//   g   = grad + weight_decay * p
//   buf = g                                   on the first step of p
//   buf = momentum * buf + (1 - dampening) * g  afterwards
//   g   = g + momentum * buf  (nesterov)  or  buf
//   p   = p - lr * g
// Row gradients (see row-sparse.ts) update only their rows, lazily: rows outside the step get no
// weight decay and their momentum buffer is neither decayed nor applied (as sparse SGD). The buffer of
// a parameter first seen with a row gradient starts at zero, which equals torch's first step when
// dampening = 0 (the default and the recipe's setting).
import { emptyLike, type Tensor, zerosLike } from '../../tensor/index.js';
import type { RowGrad } from '../../tensor/row-sparse.js';
import { checkNonNegative, Optimizer, type ParamGroup, type ParamState, type ResolvedGroup } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly kind = 'sgd';
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;

  /** Defaults follow the recipe: momentum 0.9, dampening 0, weight decay 0 unless given, nesterov false. */
  constructor(params: Tensor[] | ParamGroup[], o: SgdOptions) {
    super(params, o.lr, o.weightDecay ?? 0);
    this.momentum = o.momentum ?? 0.9;
    this.dampening = o.dampening ?? 0;
    this.nesterov = o.nesterov ?? false;
    checkNonNegative('momentum', this.momentum);
    checkNonNegative('dampening', this.dampening);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('optimizer: nesterov momentum requires momentum > 0 and dampening = 0');
    }
  }

  protected updateDense(p: Tensor, grad: Tensor, group: ResolvedGroup, lr: number, state: ParamState): void {
    const g = group.weightDecay !== 0 ? grad.add(p, group.weightDecay) : grad;
    p.add_(this.#direction(g, state, p, null), -lr);
  }

  protected updateRows(p: Tensor, grad: RowGrad, group: ResolvedGroup, lr: number, state: ParamState): void {
    const rows = p.indexSelect(0, grad.rows);
    const g = group.weightDecay !== 0 ? grad.values.add(rows, group.weightDecay) : grad.values;
    rows.add_(this.#direction(g, state, p, grad.rows), -lr);
    p.indexCopy_(0, grad.rows, rows);
  }

  /** The step direction for g, updating the momentum buffer (all of it, or only `rows` of it). */
  #direction(g: Tensor, state: ParamState, p: Tensor, rows: Tensor | null): Tensor {
    if (this.momentum === 0) return g;
    let buf = state.buffers['momentum_buffer'];
    if (rows === null) {
      if (buf === undefined) {
        buf = this.setBuffer(state, 'momentum_buffer', emptyLike(p).copy_(g));
      } else {
        buf.mul_(this.momentum).add_(g, 1 - this.dampening);
      }
      return this.nesterov ? g.add(buf, this.momentum) : buf;
    }
    buf ??= this.setBuffer(state, 'momentum_buffer', zerosLike(p));
    const bufRows = buf
      .indexSelect(0, rows)
      .mul_(this.momentum)
      .add_(g, 1 - this.dampening);
    buf.indexCopy_(0, rows, bufRows);
    return this.nesterov ? g.add(bufRows, this.momentum) : bufRows;
  }
}
