// Module: a tree of layers owning named parameters (trainable leaves) and buffers (running statistics),
// named and ordered exactly as PyTorch's state_dict so that torchvision checkpoints load unchanged.
import { type Device, keep, noGrad, type Tensor } from '../tensor/index.js';
import { isCleanReport, type ShapeMismatch, StateDictError, type StateDictReport } from './state-dict-error.js';

export interface LoadStateDictOptions {
  /** Throw a StateDictError when any key is missing, unexpected or mis-shaped (default true). */
  strict?: boolean;
}

// Buffers that checkpoints written before PyTorch 0.4.1 lack (e.g. the Caffe-converted BN-Inception);
// PyTorch fills them in too, so they are not reported missing.
const OPTIONAL_BUFFER = /(^|\.)num_batches_tracked$/;

function checkName(name: string, what: string): void {
  if (name === '' || name.includes('.')) throw new Error(`${what} name must be non-empty without '.', got '${name}'`);
}

export abstract class Module {
  #training = true;
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  get training(): boolean {
    return this.#training;
  }

  /** Sets training mode (batch statistics in BatchNorm) on this module and all below it. */
  train(mode = true): this {
    this.#training = mode;
    for (const child of this.#children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  // ---- registration (in the order PyTorch modules assign their attributes) ----

  /** Registers a trainable leaf; it outlives every scope() until dispose(). */
  protected registerParameter(name: string, value: Tensor): Tensor {
    checkName(name, 'parameter');
    if (this.#parameters.has(name)) throw new Error(`parameter '${name}' registered twice`);
    keep(value);
    if (!value.requiresGrad) value.requiresGrad_(true);
    this.#parameters.set(name, value);
    return value;
  }

  /** Registers state that is saved and loaded but not trained. */
  protected registerBuffer(name: string, value: Tensor): Tensor {
    checkName(name, 'buffer');
    if (this.#buffers.has(name)) throw new Error(`buffer '${name}' registered twice`);
    this.#buffers.set(name, keep(value));
    return value;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    checkName(name, 'module');
    if (this.#children.has(name)) throw new Error(`module '${name}' registered twice`);
    this.#children.set(name, module);
    return module;
  }

  /** This module's own parameter (read it at each use: to() replaces the tensor). */
  protected param(name: string): Tensor {
    const t = this.#parameters.get(name);
    if (!t) throw new Error(`${this.constructor.name} has no parameter '${name}'`);
    return t;
  }

  protected buffer(name: string): Tensor {
    const t = this.#buffers.get(name);
    if (!t) throw new Error(`${this.constructor.name} has no buffer '${name}'`);
    return t;
  }

  protected hasParam(name: string): boolean {
    return this.#parameters.has(name);
  }

  // ---- traversal ----

  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  children(): Module[] {
    return [...this.#children.values()];
  }

  /** This module (name '') and every module below it, depth first. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.#children) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, t] of m.#parameters) out.push([join(path, name), t]);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, t] of m.#buffers) out.push([join(path, name), t]);
    }
    return out;
  }

  /**
   * Puts every 4-d parameter and buffer (the convolution weights) in row-major or NHWC memory, in
   * place: the tensors keep their identity. With channels_last weights and input, libtorch's
   * convolutions (oneDNN) skip their layout reorders: 1.25x in fp32 and 1.7x under bf16 autocast for a
   * ResNet-50 forward here. Values, shapes and state_dict bytes do not change.
   */
  toMemoryFormat(format: 'contiguous' | 'channels_last'): void {
    noGrad(() => {
      for (const t of [...this.parameters(), ...this.namedBuffers().map(([, b]) => b)]) {
        if (t.rank !== 4) continue;
        const moved = t.contiguous(format);
        t.setData(moved);
        moved.dispose();
      }
    });
  }

  /**
   * 'channels_last' when the 4-d parameters are in NHWC memory (see toMemoryFormat). Judged on the first
   * one whose layouts differ: a [C, 1, k, k] weight (one input channel) is both at once.
   */
  get memoryFormat(): 'contiguous' | 'channels_last' {
    const telling = this.parameters().find((p) => p.rank === 4 && p.isChannelsLast() !== p.isContiguous());
    return telling?.isChannelsLast() ? 'channels_last' : 'contiguous';
  }

  /** Number of parameter values (elements). */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.numel, 0);
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  // ---- state ----

  /**
   * Parameters and buffers by their PyTorch state_dict names, in PyTorch's order (each module's own
   * parameters, then its buffers, then its children). The tensors are detached aliases of the module's
   * storage (as PyTorch's): reading is free, and disposing them leaves the module intact.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of m.#parameters) out[join(path, name)] = t.detach();
      for (const [name, t] of m.#buffers) out[join(path, name)] = t.detach();
    }
    return out;
  }

  /** Keys and shapes of stateDict() without creating tensors. */
  stateShapes(): Map<string, readonly number[]> {
    const out = new Map<string, readonly number[]>();
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of m.#parameters) out.set(join(path, name), t.shape);
      for (const [name, t] of m.#buffers) out.set(join(path, name), t.shape);
    }
    return out;
  }

  /** Compares a state dict's keys and shapes with this module's, without loading anything. */
  checkStateDict(stateDict: Readonly<Record<string, Tensor>>): StateDictReport {
    const own = this.stateShapes();
    const missing: string[] = [];
    const mismatched: ShapeMismatch[] = [];
    for (const [key, shape] of own) {
      const given = stateDict[key];
      if (given === undefined) {
        if (!OPTIONAL_BUFFER.test(key)) missing.push(key);
      } else if (given.shape.join(',') !== shape.join(',')) {
        mismatched.push({ key, expected: shape, got: given.shape });
      }
    }
    const unexpected = Object.keys(stateDict).filter((k) => !own.has(k));
    return { missing, unexpected, mismatched };
  }

  /**
   * Copies values in (converting dtype and device). Strict (the default): when anything is missing,
   * unexpected or mis-shaped, throws one StateDictError listing all of it and loads nothing.
   * Non-strict: loads every key that matches and returns what did not.
   */
  loadStateDict(
    stateDict: Readonly<Record<string, Tensor>>,
    { strict = true }: LoadStateDictOptions = {},
  ): StateDictReport {
    const report = this.checkStateDict(stateDict);
    if (strict && !isCleanReport(report)) throw new StateDictError(report);
    const skip = new Set(report.mismatched.map((m) => m.key));
    noGrad(() => {
      for (const [path, m] of this.namedModules()) {
        for (const map of [m.#parameters, m.#buffers]) {
          for (const [name, target] of map) {
            const key = join(path, name);
            const source = stateDict[key];
            if (source !== undefined && !skip.has(key)) target.copy_(source);
          }
        }
      }
    });
    return report;
  }

  /** Moves every parameter and buffer to a device (parameters stay trainable leaves). */
  to(device: Device): this {
    for (const [, m] of this.namedModules()) {
      for (const map of [m.#parameters, m.#buffers]) {
        for (const [name, old] of map) {
          const moved = keep(noGrad(() => old.to(device)));
          if (old.requiresGrad && !moved.requiresGrad) moved.requiresGrad_(true);
          map.set(name, moved);
          if (moved !== old) old.dispose();
        }
      }
    }
    return this;
  }

  /** Frees every parameter and buffer now. The module is unusable afterwards. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const t of m.#parameters.values()) t.dispose();
      for (const t of m.#buffers.values()) t.dispose();
    }
  }
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}
