// Creating tensors: from host data, constant fills and ranges.
import { type DType, dtypeCode, dtypeOfArray, type TypedArray } from './dtype.js';
import { type Handle, native } from './native.js';
import { type Device, Tensor } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

type Nested = number | boolean | Nested[];

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let level: Nested = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as Nested;
  }
  return shape;
}

function flattenNested(data: Nested[]): (number | boolean)[] {
  const out: (number | boolean)[] = [];
  const walk = (v: Nested) => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else out.push(v);
  };
  walk(data);
  return out;
}

function checkShape(shape: readonly number[], what: string): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0)
      throw new RangeError(`${what}: shape must be non-negative integers, got [${shape.join(', ')}]`);
  }
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

/**
 * A tensor holding a copy of data. A TypedArray keeps its own dtype (Uint16Array = float16 bits)
 * unless opts.dtype converts it; nested number arrays become float32 by default.
 */
export function tensor(data: TypedArray | Nested, opts: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  let typed: TypedArray;
  let shape: readonly number[];
  if (ArrayBuffer.isView(data)) {
    typed = data as TypedArray;
    shape = opts.shape ?? [typed.length];
  } else {
    shape = opts.shape ?? inferShape(data);
    const flat = Array.isArray(data) ? flattenNested(data) : [data];
    const target = opts.dtype ?? 'float32';
    if (target === 'int64') typed = BigInt64Array.from(flat, (v) => BigInt(Math.trunc(Number(v))));
    else if (target === 'float64') typed = Float64Array.from(flat, Number);
    else if (target === 'int32') typed = Int32Array.from(flat, Number);
    else if (target === 'uint8' || target === 'bool') typed = Uint8Array.from(flat, Number);
    else typed = Float32Array.from(flat, Number);
  }
  checkShape(shape, 'tensor()');
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel !== typed.length) {
    throw new RangeError(`tensor(): ${typed.length} values do not fill shape [${shape.join(', ')}] (${numel})`);
  }
  const natural = dtypeOfArray(typed);
  const storeAs = opts.dtype === 'bool' && natural === 'uint8' ? 'bool' : natural;
  let t = new Tensor(native.fromBuffer(typed, shape, dtypeCode(storeAs), undefined));
  if ((opts.dtype && opts.dtype !== storeAs) || (opts.device && opts.device !== 'cpu')) {
    const converted = t.to({ dtype: opts.dtype, device: opts.device });
    t.dispose();
    t = converted;
  }
  return finish(t, opts);
}

/** A scalar (0-d) tensor. */
export function scalar(value: number, opts: CreateOptions = {}): Tensor {
  return tensor([value], { ...opts, shape: [] });
}

type Factory = (shape: readonly number[], dtype: number | undefined, device: Device | undefined) => Handle;

// Takes the native function itself (not its name): a lookup by a varying key and a spread call
// cost more than zeros([4]) itself.
function make(what: string, factory: Factory, shape: readonly number[], opts: CreateOptions): Tensor {
  checkShape(shape, what);
  return finish(new Tensor(factory(shape, opts.dtype && dtypeCode(opts.dtype), opts.device)), opts);
}

export function empty(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return make('empty()', native.empty, shape, opts);
}
export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return make('zeros()', native.zeros, shape, opts);
}
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return make('ones()', native.ones, shape, opts);
}
export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'full()');
  const t = new Tensor(native.full(shape, value, opts.dtype && dtypeCode(opts.dtype), opts.device));
  return finish(t, opts);
}
/** Values start, start+step, ... below end (int64 when all arguments are integers, as torch.arange). */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  if (step === 0) throw new RangeError('arange(): step must not be 0');
  return finish(new Tensor(native.arange(s, e, step, opts.dtype && dtypeCode(opts.dtype), opts.device)), opts);
}
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  return finish(new Tensor(native.linspace(start, end, steps, opts.dtype && dtypeCode(opts.dtype), opts.device)), opts);
}
export function eye(n: number, opts: CreateOptions = {}): Tensor {
  return finish(new Tensor(native.eye(n, opts.dtype && dtypeCode(opts.dtype), opts.device)), opts);
}
export function zerosLike(t: Tensor): Tensor {
  return new Tensor(native.zerosLike(t.handle));
}
export function onesLike(t: Tensor): Tensor {
  return new Tensor(native.onesLike(t.handle));
}
export function emptyLike(t: Tensor): Tensor {
  return new Tensor(native.emptyLike(t.handle));
}

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('cat(): needs at least one tensor');
  return new Tensor(
    native.cat(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('stack(): needs at least one tensor');
  return new Tensor(
    native.stack(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}
/** Elementwise choice: cond ? a : b (either side may be a number). */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const hv = (x: Tensor | number) => (typeof x === 'number' ? x : x.handle);
  return new Tensor(native.where(cond.handle, hv(a), hv(b)));
}
export function oneHot(labels: Tensor, numClasses = -1): Tensor {
  return new Tensor(native.oneHot(labels.handle, numClasses));
}
