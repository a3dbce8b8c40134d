// The Tensor class: a typed, disposable wrapper over one native at::Tensor handle.
import { type DType, dtypeCode, dtypeName, type TypedArray, viewBytes } from './dtype.js';
import { type GeneratorHandle, type Handle, native } from './native.js';
import { type Disposable, track } from './scope.js';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type Operand = Tensor | number;
export type Reduction = 'none' | 'mean' | 'sum';

function h(x: Operand): Handle | number {
  return typeof x === 'number' ? x : x.handle;
}

function normDim(dim: number, rank: number): number {
  return dim < 0 ? dim + rank : dim;
}

// The GC backstop for tensors no scope owns. A handle freed earlier by dispose() is stale by then,
// and disposing a stale handle does nothing, so nothing needs unregistering.
const collector = new FinalizationRegistry<Handle>((handle) => native.dispose(handle));
// Registering costs more than a small op, and most unscoped tensors are disposed right after use
// (`a.add(b).dispose()`), so registration waits until the current job ends or this many tensors
// are waiting; those disposed by then are skipped. Finalizers only run between jobs anyway.
const REGISTER_BATCH = 256;

export class Tensor implements Disposable {
  #handle: Handle | null;
  #shape: readonly number[] | null = null;
  #dtype: DType | null = null;
  _scopeFrame: object[] | null = null;

  /** Wraps a native handle. Use the creation functions (tensor, zeros, ...) instead. */
  constructor(handle: Handle) {
    this.#handle = handle;
    track(this);
  }

  get handle(): Handle {
    if (this.#handle === null) throw new Error('tensor used after dispose()');
    return this.#handle;
  }

  static #unregistered: Tensor[] = [];
  static #flushQueued = false;

  /** @internal see Disposable */
  _unscoped(): void {
    const waiting = Tensor.#unregistered;
    waiting.push(this);
    if (waiting.length >= REGISTER_BATCH) Tensor.#registerWaiting();
    else if (!Tensor.#flushQueued) {
      Tensor.#flushQueued = true;
      queueMicrotask(Tensor.#registerWaiting);
    }
  }

  static #registerWaiting = (): void => {
    Tensor.#flushQueued = false;
    const handles: Handle[] = [];
    for (const t of Tensor.#unregistered) {
      if (t.#handle === null) continue;
      collector.register(t, t.#handle);
      handles.push(t.#handle);
    }
    Tensor.#unregistered.length = 0;
    // Only now does the GC own them, so only now do their bytes count towards V8's heap pressure.
    if (handles.length > 0) native.handOverToGc(handles);
  };

  get isDisposed(): boolean {
    return this.#handle === null;
  }

  /** Frees the native tensor now (views of it keep their storage alive). Safe to call twice. */
  dispose(): void {
    if (this.#handle !== null) {
      native.dispose(this.#handle);
      this.#handle = null;
    }
  }

  // ---- metadata ----
  get shape(): readonly number[] {
    if (this.#shape === null) this.#shape = Object.freeze(native.shape(this.handle) as number[]);
    return this.#shape;
  }
  get dtype(): DType {
    if (this.#dtype === null) this.#dtype = dtypeName(native.dtype(this.handle));
    return this.#dtype;
  }
  get device(): Device {
    return native.device(this.handle) as Device;
  }
  get rank(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  size(dim: number): number {
    const d = normDim(dim, this.rank);
    if (d < 0 || d >= this.rank) throw new RangeError(`dim ${dim} out of range for a ${this.rank}-d tensor`);
    return this.shape[d] as number;
  }
  isContiguous(): boolean {
    return native.isContiguous(this.handle);
  }
  /** Whether a 4-d tensor's memory is NHWC (channels_last); false for other ranks. */
  isChannelsLast(): boolean {
    return this.rank === 4 && native.isChannelsLast(this.handle);
  }
  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  // ---- host transfer ----
  /** A copy of the data as a TypedArray (int64 -> BigInt64Array, bool -> Uint8Array, float16/bfloat16 -> Float32Array). */
  toTypedArray(): TypedArray {
    const dtype = this.dtype;
    if (dtype === 'float16' || dtype === 'bfloat16') {
      const f = new Tensor(native.to(this.handle, dtypeCode('float32')));
      try {
        return f.toTypedArray();
      } finally {
        f.dispose();
      }
    }
    return viewBytes(native.toBuffer(this.handle), dtype);
  }
  /** The data as plain numbers (flat, row-major). */
  toArray(): number[] {
    return Array.from(this.toTypedArray() as ArrayLike<number | bigint>, Number);
  }
  /** The raw bytes, little-endian, in the tensor's own dtype. */
  toBytes(): Uint8Array {
    return new Uint8Array(native.toBuffer(this.handle));
  }
  item(): number {
    return native.item(this.handle);
  }

  // ---- conversion ----
  to(target: DType | Device | { dtype?: DType; device?: Device; copy?: boolean }): Tensor {
    if (typeof target === 'string') {
      const isDevice = target === 'cpu' || target.startsWith('cuda');
      return isDevice
        ? new Tensor(native.to(this.handle, undefined, target))
        : new Tensor(native.to(this.handle, dtypeCode(target as DType)));
    }
    return new Tensor(
      native.to(this.handle, target.dtype ? dtypeCode(target.dtype) : undefined, target.device, target.copy ?? false),
    );
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }
  clone(): Tensor {
    return new Tensor(native.clone(this.handle));
  }

  // ---- views and shape ----
  reshape(...shape: number[]): Tensor {
    return new Tensor(native.reshape(this.handle, shape));
  }
  view(...shape: number[]): Tensor {
    return new Tensor(native.view(this.handle, shape));
  }
  permute(...dims: number[]): Tensor {
    return new Tensor(native.permute(this.handle, dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return new Tensor(native.transpose(this.handle, dim0, dim1));
  }
  /** Transpose of a 2-d tensor. */
  get T(): Tensor {
    return this.transpose(0, 1);
  }
  /**
   * The same values in row-major memory, or for 'channels_last' (4-d only) in NHWC memory with the
   * NCHW shape kept, as PyTorch's `contiguous(memory_format=torch.channels_last)`.
   */
  contiguous(format: 'contiguous' | 'channels_last' = 'contiguous'): Tensor {
    if (format === 'contiguous') return new Tensor(native.contiguous(this.handle));
    if (this.rank !== 4) throw new RangeError(`contiguous('channels_last') needs a 4-d tensor, got ${this.rank}-d`);
    return new Tensor(native.contiguousChannelsLast(this.handle));
  }
  /**
   * Makes this tensor hold src's memory (PyTorch's `t.data = src`): same shape, dtype and device; the
   * tensor keeps its identity (a parameter stays the module's and the optimiser's).
   */
  setData(src: Tensor): void {
    const same = this.shape.join() === src.shape.join() && this.dtype === src.dtype && this.device === src.device;
    if (!same) {
      throw new RangeError(
        `setData: expected ${this.dtype} [${this.shape.join(', ')}] on ${this.device}, got ${src.dtype} [${src.shape.join(', ')}] on ${src.device}`,
      );
    }
    native.setData(this.handle, src.handle);
  }
  slice(dim: number, start: number, end?: number, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start, end ?? this.size(dim), step));
  }
  select(dim: number, index: number): Tensor {
    return new Tensor(native.select(this.handle, dim, index));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native.narrow(this.handle, dim, start, length));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this.handle, dim));
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(native.squeeze(this.handle, dim));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return new Tensor(native.flatten(this.handle, startDim, endDim));
  }
  expand(...shape: number[]): Tensor {
    return new Tensor(native.expand(this.handle, shape));
  }
  repeat(...times: number[]): Tensor {
    return new Tensor(native.repeat(this.handle, times));
  }
  flip(...dims: number[]): Tensor {
    return new Tensor(native.flip(this.handle, dims));
  }
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return (native.split(this.handle, sizeOrSizes, dim) as Handle[]).map((x) => new Tensor(x));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return (native.chunk(this.handle, chunks, dim) as Handle[]).map((x) => new Tensor(x));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(native.gather(this.handle, dim, index.handle));
  }
  scatter(dim: number, index: Tensor, src: Operand): Tensor {
    return new Tensor(native.scatter(this.handle, dim, index.handle, h(src)));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(native.scatterAdd(this.handle, dim, index.handle, src.handle));
  }
  indexAdd(dim: number, index: Tensor, source: Tensor, alpha = 1): Tensor {
    return new Tensor(native.indexAdd(this.handle, dim, index.handle, source.handle, alpha));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return new Tensor(native.maskedFill(this.handle, mask.handle, value));
  }
  maskedSelect(mask: Tensor): Tensor {
    return new Tensor(native.maskedSelect(this.handle, mask.handle));
  }
  nonzero(): Tensor {
    return new Tensor(native.nonzero(this.handle));
  }
  tril(diagonal = 0): Tensor {
    return new Tensor(native.tril(this.handle, diagonal));
  }
  triu(diagonal = 0): Tensor {
    return new Tensor(native.triu(this.handle, diagonal));
  }
  diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor {
    return new Tensor(native.diagonal(this.handle, offset, dim1, dim2));
  }

  // ---- elementwise (broadcasting) ----
  add(other: Operand, alpha = 1): Tensor {
    return new Tensor(native.add(this.handle, h(other), alpha));
  }
  sub(other: Operand, alpha = 1): Tensor {
    return new Tensor(native.sub(this.handle, h(other), alpha));
  }
  /** value - this */
  rsub(value: number): Tensor {
    return new Tensor(native.rsub(this.handle, value));
  }
  mul(other: Operand): Tensor {
    return new Tensor(native.mul(this.handle, h(other)));
  }
  div(other: Operand): Tensor {
    return new Tensor(native.div(this.handle, h(other)));
  }
  remainder(other: Operand): Tensor {
    return new Tensor(native.remainder(this.handle, h(other)));
  }
  pow(exponent: Operand): Tensor {
    return new Tensor(native.pow(this.handle, h(exponent)));
  }
  maximum(other: Tensor): Tensor {
    return new Tensor(native.maximum(this.handle, other.handle));
  }
  minimum(other: Tensor): Tensor {
    return new Tensor(native.minimum(this.handle, other.handle));
  }
  clamp(min?: number, max?: number): Tensor {
    return new Tensor(native.clamp(this.handle, min, max));
  }
  eq(other: Operand): Tensor {
    return new Tensor(native.eq(this.handle, h(other)));
  }
  ne(other: Operand): Tensor {
    return new Tensor(native.ne(this.handle, h(other)));
  }
  lt(other: Operand): Tensor {
    return new Tensor(native.lt(this.handle, h(other)));
  }
  le(other: Operand): Tensor {
    return new Tensor(native.le(this.handle, h(other)));
  }
  gt(other: Operand): Tensor {
    return new Tensor(native.gt(this.handle, h(other)));
  }
  ge(other: Operand): Tensor {
    return new Tensor(native.ge(this.handle, h(other)));
  }
  logicalAnd(other: Tensor): Tensor {
    return new Tensor(native.logicalAnd(this.handle, other.handle));
  }
  logicalOr(other: Tensor): Tensor {
    return new Tensor(native.logicalOr(this.handle, other.handle));
  }
  logicalNot(): Tensor {
    return new Tensor(native.logicalNot(this.handle));
  }
  bitwiseAnd(other: Operand): Tensor {
    return new Tensor(native.bitwiseAnd(this.handle, h(other)));
  }
  bitwiseOr(other: Operand): Tensor {
    return new Tensor(native.bitwiseOr(this.handle, h(other)));
  }
  bitwiseXor(other: Operand): Tensor {
    return new Tensor(native.bitwiseXor(this.handle, h(other)));
  }
  bitwiseNot(): Tensor {
    return new Tensor(native.bitwiseNot(this.handle));
  }
  shiftLeft(bits: number): Tensor {
    return new Tensor(native.bitwiseLeftShift(this.handle, bits));
  }
  shiftRight(bits: number): Tensor {
    return new Tensor(native.bitwiseRightShift(this.handle, bits));
  }
  /** Number of set bits of each byte of a uint8 tensor. */
  popcount(): Tensor {
    return new Tensor(native.popcount(this.handle));
  }
  neg(): Tensor {
    return new Tensor(native.neg(this.handle));
  }
  exp(): Tensor {
    return new Tensor(native.exp(this.handle));
  }
  log(): Tensor {
    return new Tensor(native.log(this.handle));
  }
  log1p(): Tensor {
    return new Tensor(native.log1p(this.handle));
  }
  expm1(): Tensor {
    return new Tensor(native.expm1(this.handle));
  }
  sqrt(): Tensor {
    return new Tensor(native.sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return new Tensor(native.rsqrt(this.handle));
  }
  abs(): Tensor {
    return new Tensor(native.abs(this.handle));
  }
  sign(): Tensor {
    return new Tensor(native.sign(this.handle));
  }
  sin(): Tensor {
    return new Tensor(native.sin(this.handle));
  }
  cos(): Tensor {
    return new Tensor(native.cos(this.handle));
  }
  tanh(): Tensor {
    return new Tensor(native.tanh(this.handle));
  }
  sigmoid(): Tensor {
    return new Tensor(native.sigmoid(this.handle));
  }
  relu(): Tensor {
    return new Tensor(native.relu(this.handle));
  }
  floor(): Tensor {
    return new Tensor(native.floor(this.handle));
  }
  ceil(): Tensor {
    return new Tensor(native.ceil(this.handle));
  }
  round(): Tensor {
    return new Tensor(native.round(this.handle));
  }
  reciprocal(): Tensor {
    return new Tensor(native.reciprocal(this.handle));
  }
  square(): Tensor {
    return new Tensor(native.square(this.handle));
  }
  erf(): Tensor {
    return new Tensor(native.erf(this.handle));
  }
  isnan(): Tensor {
    return new Tensor(native.isnan(this.handle));
  }
  isfinite(): Tensor {
    return new Tensor(native.isfinite(this.handle));
  }

  // ---- reductions ----
  sum(dims?: number | number[], keepdim = false, dtype?: DType): Tensor {
    return new Tensor(native.sum(this.handle, dimList(dims), keepdim, dtype && dtypeCode(dtype)));
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.mean(this.handle, dimList(dims), keepdim));
  }
  prod(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.prod(this.handle, dim, keepdim));
  }
  /** Variance; unbiased (Bessel's correction) by default, as torch.var. */
  var(dims?: number | number[], { unbiased = true, keepdim = false } = {}): Tensor {
    return new Tensor(native.var(this.handle, dimList(dims), unbiased, keepdim));
  }
  std(dims?: number | number[], { unbiased = true, keepdim = false } = {}): Tensor {
    return new Tensor(native.std(this.handle, dimList(dims), unbiased, keepdim));
  }
  norm(p = 2, dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.norm(this.handle, p, dimList(dims), keepdim));
  }
  logsumexp(dims: number | number[], keepdim = false): Tensor {
    return new Tensor(native.logsumexp(this.handle, typeof dims === 'number' ? [dims] : dims, keepdim));
  }
  cumsum(dim: number): Tensor {
    return new Tensor(native.cumsum(this.handle, dim));
  }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return new Tensor(native.maxAll(this.handle));
    const [v, i] = native.maxDim(this.handle, dim, keepdim) as Handle[];
    return { values: new Tensor(v as Handle), indices: new Tensor(i as Handle) };
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return new Tensor(native.minAll(this.handle));
    const [v, i] = native.minDim(this.handle, dim, keepdim) as Handle[];
    return { values: new Tensor(v as Handle), indices: new Tensor(i as Handle) };
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmin(this.handle, dim, keepdim));
  }
  all(): Tensor {
    return new Tensor(native.all(this.handle));
  }
  any(): Tensor {
    return new Tensor(native.any(this.handle));
  }
  topk(k: number, { dim = -1, largest = true, sorted = true } = {}): { values: Tensor; indices: Tensor } {
    const [v, i] = native.topk(this.handle, k, dim, largest, sorted) as Handle[];
    return { values: new Tensor(v as Handle), indices: new Tensor(i as Handle) };
  }
  /** Sorts along dim; stable by default so that equal values keep index order. */
  sort({ dim = -1, descending = false, stable = true } = {}): { values: Tensor; indices: Tensor } {
    const [v, i] = native.sort(this.handle, dim, descending, stable) as Handle[];
    return { values: new Tensor(v as Handle), indices: new Tensor(i as Handle) };
  }
  argsort({ dim = -1, descending = false, stable = true } = {}): Tensor {
    return new Tensor(native.argsort(this.handle, dim, descending, stable));
  }

  // ---- linear algebra ----
  matmul(other: Tensor): Tensor {
    return new Tensor(native.matmul(this.handle, other.handle));
  }
  mm(other: Tensor): Tensor {
    return new Tensor(native.mm(this.handle, other.handle));
  }
  bmm(other: Tensor): Tensor {
    return new Tensor(native.bmm(this.handle, other.handle));
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  set requiresGrad(value: boolean) {
    native.setRequiresGrad(this.handle, value);
  }
  /** Sets requiresGrad and returns this (for chaining). */
  requiresGrad_(value = true): this {
    native.setRequiresGrad(this.handle, value);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** The accumulated gradient (a new handle onto it), or null before the first backward(). */
  get grad(): Tensor | null {
    const g = native.grad(this.handle) as Handle | null;
    return g === null ? null : new Tensor(g);
  }
  set grad(value: Tensor | null) {
    native.setGrad(this.handle, value?.handle);
  }
  /** Clears the gradient (as set_to_none=True). */
  zeroGrad(): void {
    native.setGrad(this.handle, undefined);
  }
  backward(gradient?: Tensor, { retainGraph = false } = {}): void {
    native.backward(this.handle, gradient?.handle, retainGraph);
  }
  detach(): Tensor {
    return new Tensor(native.detach(this.handle));
  }

  // ---- in-place updates (return this) ----
  add_(other: Operand, alpha = 1): this {
    native.addInplace(this.handle, h(other), alpha);
    return this;
  }
  sub_(other: Operand, alpha = 1): this {
    native.subInplace(this.handle, h(other), alpha);
    return this;
  }
  mul_(other: Operand): this {
    native.mulInplace(this.handle, h(other));
    return this;
  }
  div_(other: Operand): this {
    native.divInplace(this.handle, h(other));
    return this;
  }
  /** this += value * a * b */
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    native.addcmulInplace(this.handle, a.handle, b.handle, value);
    return this;
  }
  /** this += value * a / b */
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    native.addcdivInplace(this.handle, a.handle, b.handle, value);
    return this;
  }
  lerp_(end: Tensor, weight: number): this {
    native.lerpInplace(this.handle, end.handle, weight);
    return this;
  }
  copy_(src: Tensor): this {
    native.copyInplace(this.handle, src.handle);
    return this;
  }
  zero_(): this {
    native.zeroInplace(this.handle);
    return this;
  }
  fill_(value: number): this {
    native.fillInplace(this.handle, value);
    return this;
  }
  clamp_(min?: number, max?: number): this {
    native.clampInplace(this.handle, min, max);
    return this;
  }
  sqrt_(): this {
    native.sqrtInplace(this.handle);
    return this;
  }
  relu_(): this {
    native.reluInplace(this.handle);
    return this;
  }
  indexAdd_(dim: number, index: Tensor, source: Tensor, alpha = 1): this {
    native.indexAddInplace(this.handle, dim, index.handle, source.handle, alpha);
    return this;
  }
  indexCopy_(dim: number, index: Tensor, source: Tensor): this {
    native.indexCopyInplace(this.handle, dim, index.handle, source.handle);
    return this;
  }
  uniform_(low: number, high: number, generator?: { handle: GeneratorHandle }): this {
    native.uniformInplace(this.handle, low, high, generator?.handle);
    return this;
  }
  normal_(mean: number, std: number, generator?: { handle: GeneratorHandle }): this {
    native.normalInplace(this.handle, mean, std, generator?.handle);
    return this;
  }
}

function dimList(dims: number | number[] | undefined): number[] | undefined {
  return dims === undefined ? undefined : typeof dims === 'number' ? [dims] : dims;
}
