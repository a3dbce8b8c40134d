// Seeded randomness: one global seed (manualSeed) and explicit, resumable CPU generators.

import type { CreateOptions } from './create.js';
import { dtypeCode } from './dtype.js';
import { type GeneratorHandle, native } from './native.js';
import { Tensor } from './tensor.js';

export class Generator {
  readonly handle: GeneratorHandle;
  constructor(seed = 0) {
    checkSeed(seed);
    this.handle = native.generatorNew(seed);
  }
  /** The process-wide default CPU generator (the one manualSeed seeds). */
  static default(): Generator {
    const g = Object.create(Generator.prototype) as { handle: GeneratorHandle };
    g.handle = native.generatorDefault();
    return g as Generator;
  }
  seed(seed: number): this {
    checkSeed(seed);
    native.generatorSeed(this.handle, seed);
    return this;
  }
  /** The generator's full state, to save in a checkpoint. */
  getState(): Uint8Array {
    const t = new Tensor(native.generatorGetState(this.handle));
    try {
      return t.toTypedArray() as Uint8Array;
    } finally {
      t.dispose();
    }
  }
  setState(state: Uint8Array): this {
    const t = new Tensor(native.fromBuffer(state, [state.length], dtypeCode('uint8'), undefined));
    try {
      native.generatorSetState(this.handle, t.handle);
    } finally {
      t.dispose();
    }
    return this;
  }
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
}

/** Seeds the default CPU generator (and CUDA's, when present). */
export function manualSeed(seed: number): void {
  checkSeed(seed);
  native.manualSeed(seed);
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

function opts(o: RandomOptions): [number | undefined, string | undefined, GeneratorHandle | undefined] {
  return [o.dtype && dtypeCode(o.dtype), o.device, o.generator?.handle];
}

function finish(t: Tensor, o: RandomOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** Uniform on [0, 1). */
export function rand(shape: readonly number[], o: RandomOptions = {}): Tensor {
  return finish(new Tensor(native.rand(shape, ...opts(o))), o);
}
/** Standard normal. */
export function randn(shape: readonly number[], o: RandomOptions = {}): Tensor {
  return finish(new Tensor(native.randn(shape, ...opts(o))), o);
}
/** Uniform on [low, high). */
export function uniform(shape: readonly number[], low: number, high: number, o: RandomOptions = {}): Tensor {
  return finish(new Tensor(native.uniform(shape, low, high, ...opts(o))), o);
}
export function normal(shape: readonly number[], mean: number, std: number, o: RandomOptions = {}): Tensor {
  return finish(new Tensor(native.normal(shape, mean, std, ...opts(o))), o);
}
/** Integers in [low, high), int64 unless o.dtype says otherwise. */
export function randint(low: number, high: number, shape: readonly number[], o: RandomOptions = {}): Tensor {
  if (!(high > low)) throw new RangeError(`randint(): need low < high, got ${low} and ${high}`);
  return new Tensor(native.randint(low, high, shape, ...opts(o)));
}
/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number, o: { device?: string; generator?: Generator } = {}): Tensor {
  return new Tensor(native.randperm(n, o.device, o.generator?.handle));
}
/** Samples n indices per row of probs (non-negative weights). */
export function multinomial(probs: Tensor, n: number, replacement: boolean, generator?: Generator): Tensor {
  return new Tensor(native.multinomial(probs.handle, n, replacement, generator?.handle));
}
export function bernoulli(probs: Tensor, generator?: Generator): Tensor {
  return new Tensor(native.bernoulli(probs.handle, generator?.handle));
}
