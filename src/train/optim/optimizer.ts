// Shared machinery of the optimisers: parameter groups (each with an lr multiplier and its own weight
// decay), per-parameter state, gradient clearing and a serialisable state dict (JSON metadata plus
// named tensors keyed as torch's optimizer.state_dict(): "state.<param index>.<buffer name>").
import { keep, noGrad, scope, type Tensor } from '../../tensor/index.js';
import { clearRowGrads, type RowGrad, takeRowGrad } from '../../tensor/row-sparse.js';

export interface ParamGroup {
  params: Tensor[];
  /** The group's lr is the optimiser's base lr times this (default 1). */
  lrMult?: number;
  /** Overrides the optimiser's weight decay for this group. */
  weightDecay?: number;
}

export interface ResolvedGroup {
  params: Tensor[];
  lrMult: number;
  weightDecay: number;
}

/** Per-parameter state: named buffers (tensors owned by the optimiser) and scalar counters. */
export interface ParamState {
  buffers: Record<string, Tensor>;
  counters: Record<string, number>;
}

export interface OptimizerStateDict {
  /** JSON-serialisable part. */
  meta: {
    kind: string;
    lr: number;
    groups: { lrMult: number; weightDecay: number; params: number[] }[];
    /** Scalar per-parameter state (e.g. AdamW's step), by parameter index. */
    counters: Record<string, Record<string, number>>;
  };
  /** Copies of the state buffers, e.g. "state.0.momentum_buffer". Owned by the caller. */
  tensors: Record<string, Tensor>;
}

export abstract class Optimizer {
  abstract readonly kind: string;
  readonly groups: readonly ResolvedGroup[];
  #lr: number;
  readonly #params: Tensor[];
  readonly #state = new Map<Tensor, ParamState>();

  protected constructor(params: Tensor[] | ParamGroup[], lr: number, weightDecay: number) {
    checkNonNegative('lr', lr);
    checkNonNegative('weightDecay', weightDecay);
    this.#lr = lr;
    const groups: ParamGroup[] = isGroupList(params) ? params : [{ params: params as Tensor[] }];
    this.groups = groups.map((g, i) => {
      const lrMult = g.lrMult ?? 1;
      const wd = g.weightDecay ?? weightDecay;
      checkNonNegative(`groups[${i}].lrMult`, lrMult);
      checkNonNegative(`groups[${i}].weightDecay`, wd);
      return { params: [...g.params], lrMult, weightDecay: wd };
    });
    this.#params = this.groups.flatMap((g) => g.params);
    if (new Set(this.#params).size !== this.#params.length) {
      throw new RangeError('optimizer: a parameter appears more than once in the parameter groups');
    }
  }

  /** The base learning rate (each group uses lr * lrMult). */
  get lr(): number {
    return this.#lr;
  }
  setLr(lr: number): void {
    checkNonNegative('lr', lr);
    this.#lr = lr;
  }
  groupLr(groupIndex: number): number {
    const g = this.groups[groupIndex];
    if (!g) throw new RangeError(`optimizer: no parameter group ${groupIndex}`);
    return this.#lr * g.lrMult;
  }

  /**
   * Applies one update to every parameter that has a gradient: a dense .grad, or a row gradient from
   * gatherRows() (then only those rows of the parameter and of its state change). Parameters without
   * any gradient are skipped and keep their state, as in torch.
   */
  step(): void {
    noGrad(() => {
      for (const group of this.groups) {
        const lr = this.#lr * group.lrMult;
        for (const p of group.params) {
          scope(() => {
            const dense = p.grad;
            const rowGrad = takeRowGrad(p);
            if (dense === null && rowGrad === null) return;
            const state = this.#stateOf(p);
            if (dense !== null) {
              // Rows gathered in the same step as a dense use of p: fold them into the dense gradient.
              if (rowGrad) dense.indexAdd_(0, rowGrad.rows, rowGrad.values);
              this.updateDense(p, dense, group, lr, state);
            } else if (rowGrad !== null) {
              this.updateRows(p, rowGrad, group, lr, state);
            }
          });
          clearRowGrads(p);
        }
      }
    });
  }

  /** Clears every gradient (as zero_grad(set_to_none=True)), row gradients included. */
  zeroGrad(): void {
    for (const p of this.#params) {
      p.zeroGrad();
      clearRowGrads(p);
    }
  }

  protected abstract updateDense(p: Tensor, grad: Tensor, group: ResolvedGroup, lr: number, state: ParamState): void;
  protected abstract updateRows(p: Tensor, grad: RowGrad, group: ResolvedGroup, lr: number, state: ParamState): void;

  /** Stores t as a state buffer (kept alive outside any scope; replaces and frees an older one). */
  protected setBuffer(state: ParamState, name: string, t: Tensor): Tensor {
    const old = state.buffers[name];
    state.buffers[name] = keep(t);
    if (old && old !== t) old.dispose();
    return t;
  }

  #stateOf(p: Tensor): ParamState {
    let s = this.#state.get(p);
    if (!s) {
      s = { buffers: {}, counters: {} };
      this.#state.set(p, s);
    }
    return s;
  }

  stateDict(): OptimizerStateDict {
    const tensors: Record<string, Tensor> = {};
    const counters: Record<string, Record<string, number>> = {};
    this.#params.forEach((p, i) => {
      const s = this.#state.get(p);
      if (!s) return;
      for (const [name, t] of Object.entries(s.buffers)) tensors[`state.${i}.${name}`] = t.detach().clone();
      if (Object.keys(s.counters).length > 0) counters[i] = { ...s.counters };
    });
    let next = 0;
    const groups = this.groups.map((g) => ({
      lrMult: g.lrMult,
      weightDecay: g.weightDecay,
      params: g.params.map(() => next++),
    }));
    return { meta: { kind: this.kind, lr: this.#lr, groups, counters }, tensors };
  }

  /** Restores a state dict from an optimiser over the same parameters (checked: kind, counts, shapes). */
  loadStateDict(dict: OptimizerStateDict): void {
    const { meta, tensors } = dict;
    if (meta.kind !== this.kind) throw new Error(`optimizer state: saved by ${meta.kind}, loading into ${this.kind}`);
    const sizes = meta.groups.map((g) => g.params.length).join(',');
    const ours = this.groups.map((g) => g.params.length).join(',');
    if (sizes !== ours) throw new Error(`optimizer state: parameter groups of sizes [${sizes}], expected [${ours}]`);
    const fresh = new Map<Tensor, ParamState>();
    for (const [key, t] of Object.entries(tensors)) {
      const m = /^state\.(\d+)\.(\w+)$/.exec(key);
      const p = m ? this.#params[Number(m[1])] : undefined;
      if (!m || !p) throw new Error(`optimizer state: unexpected tensor "${key}"`);
      if (t.shape.join() !== p.shape.join()) {
        throw new Error(`optimizer state: "${key}" has shape [${t.shape}], parameter has [${p.shape}]`);
      }
      const s = fresh.get(p) ?? { buffers: {}, counters: {} };
      s.buffers[m[2] as string] = keep(t.detach().to({ dtype: p.dtype, device: p.device, copy: true }));
      fresh.set(p, s);
    }
    for (const [index, c] of Object.entries(meta.counters)) {
      const p = this.#params[Number(index)];
      if (!p) throw new Error(`optimizer state: counters for unknown parameter ${index}`);
      const s = fresh.get(p) ?? { buffers: {}, counters: {} };
      s.counters = { ...c };
      fresh.set(p, s);
    }
    this.#disposeState();
    for (const [p, s] of fresh) this.#state.set(p, s);
    this.#lr = meta.lr;
    meta.groups.forEach((g, i) => {
      const ours = this.groups[i] as ResolvedGroup;
      ours.lrMult = g.lrMult;
      ours.weightDecay = g.weightDecay;
    });
  }

  /** Frees the optimiser's state buffers. */
  dispose(): void {
    this.#disposeState();
    for (const p of this.#params) clearRowGrads(p);
  }

  #disposeState(): void {
    for (const s of this.#state.values()) for (const t of Object.values(s.buffers)) t.dispose();
    this.#state.clear();
  }
}

function isGroupList(params: Tensor[] | ParamGroup[]): params is ParamGroup[] {
  return params.length > 0 && 'params' in (params[0] as object);
}

export function checkNonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`optimizer: ${name} must be >= 0, got ${value}`);
}
