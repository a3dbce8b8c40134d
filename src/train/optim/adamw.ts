// AdamW (decoupled weight decay), exactly as torch.optim.AdamW (amsgrad=False, maximize=False):
//   t += 1
//   p  = p * (1 - lr * weight_decay)
//   m  = beta1 * m + (1 - beta1) * g
//   v  = beta2 * v + (1 - beta2) * g * g
//   p  = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// t counts the steps in which the parameter had a gradient. Row gradients (see row-sparse.ts) update
// only their rows, lazily as torch.optim.SparseAdam: rows outside the step keep p, m and v unchanged
// (no decay), and the rows of a step use the parameter's t for the bias corrections.
import { type Tensor, zerosLike } from '../../tensor/index.js';
import type { RowGrad } from '../../tensor/row-sparse.js';
import { Optimizer, type ParamGroup, type ParamState, type ResolvedGroup } from './optimizer.js';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW extends Optimizer {
  readonly kind = 'adamw';
  readonly betas: [number, number];
  readonly eps: number;

  /** Defaults as torch: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2. */
  constructor(params: Tensor[] | ParamGroup[], o: AdamWOptions = {}) {
    super(params, o.lr ?? 1e-3, o.weightDecay ?? 1e-2);
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    for (const b of this.betas) {
      if (!(b >= 0 && b < 1)) throw new RangeError(`optimizer: AdamW betas must be in [0, 1), got ${this.betas}`);
    }
    if (!(this.eps >= 0)) throw new RangeError(`optimizer: AdamW eps must be >= 0, got ${this.eps}`);
  }

  protected updateDense(p: Tensor, grad: Tensor, group: ResolvedGroup, lr: number, state: ParamState): void {
    this.#update(p, grad, group, lr, state, null);
  }

  protected updateRows(p: Tensor, grad: RowGrad, group: ResolvedGroup, lr: number, state: ParamState): void {
    this.#update(p, grad.values, group, lr, state, grad.rows);
  }

  #update(p: Tensor, g: Tensor, group: ResolvedGroup, lr: number, state: ParamState, rows: Tensor | null): void {
    const [beta1, beta2] = this.betas;
    const expAvg = state.buffers['exp_avg'] ?? this.setBuffer(state, 'exp_avg', zerosLike(p));
    const expAvgSq = state.buffers['exp_avg_sq'] ?? this.setBuffer(state, 'exp_avg_sq', zerosLike(p));
    const t = (state.counters['step'] ?? 0) + 1;
    state.counters['step'] = t;

    const param = rows ? p.indexSelect(0, rows) : p;
    const m = rows ? expAvg.indexSelect(0, rows) : expAvg;
    const v = rows ? expAvgSq.indexSelect(0, rows) : expAvgSq;
    param.mul_(1 - lr * group.weightDecay);
    m.mul_(beta1).add_(g, 1 - beta1);
    v.mul_(beta2).addcmul_(g, g, 1 - beta2);
    const stepSize = lr / (1 - beta1 ** t);
    const denom = v
      .sqrt()
      .div_(Math.sqrt(1 - beta2 ** t))
      .add_(this.eps);
    param.addcdiv_(m, denom, -stepSize);
    if (rows) {
      p.indexCopy_(0, rows, param);
      expAvg.indexCopy_(0, rows, m);
      expAvgSq.indexCopy_(0, rows, v);
    }
  }
}
