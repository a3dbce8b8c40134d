// The addon's interface: one signature per function that native/src/*.cpp exports, in the order
// and with the argument conventions of the C++ (see the comment above each NS_FN there).
// test/tensor/native-names.test.ts checks that this interface, NATIVE_NAMES and the built addon's
// exports name the same functions. The C++ checks types and throws a JS error on a wrong one; the
// typed wrappers in src/tensor (and src/tensor/kernels for the coarse kernels) check values first.

/** An opaque reference to a native at::Tensor (a BigInt naming a slot of the addon's handle table). */
export type Handle = { readonly __tensorHandle: unique symbol };
/** An opaque reference to a native at::Generator. */
export type GeneratorHandle = { readonly __generatorHandle: unique symbol };

type T = Handle;
/** A tensor or a JS number (a scalar operand). */
type TensorOrNumber = Handle | number;
type Ints = readonly number[];
/** A dtype code (dtypeCode() in dtype.ts); undefined: libtorch's default. */
type DtypeCode = number | undefined;
/** A device string ('cpu', 'cuda', 'cuda:1'); undefined: the CPU (or the tensor's own device). */
type DeviceName = string | undefined;
type Gen = GeneratorHandle | undefined;
type Optional = Handle | undefined;
/** The device types libtorch's autocast has a switch for (that we use). */
export type AutocastDeviceType = 'cpu' | 'cuda';

export type NativeTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** One mallopt call of native/src/allocator.cpp and whether glibc accepted it. */
export interface NativeMallocSetting {
  name: 'M_MMAP_THRESHOLD' | 'M_TRIM_THRESHOLD';
  value: number;
  accepted: boolean;
}
export interface NativeAllocatorPolicy {
  /** Every setting was accepted: large freed blocks stay in the heap. */
  active: boolean;
  /** What the process runs with, in words (and why, when it is not our policy). */
  note: string;
  /** The mallopt calls in order (none when the policy was not tried). */
  settings: NativeMallocSetting[];
}

/** The rendezvous settings of distInit (see src/tensor/process-group.ts). */
export interface NativeDistOptions {
  masterAddr: string;
  port: number;
  rank: number;
  worldSize: number;
  hostStore: boolean;
  storePrefix: string;
  ifname: string;
  hostname: string;
  timeoutMs: number;
  threads: number;
  /** This rank's view of the job, compared across ranks at start ('': no check). */
  announce: string;
}

export interface NativeAddon {
  abs(t: T): T;
  adaptiveAvgPool2d(x: T, outputSize: Ints): T;
  add(a: T, b: TensorOrNumber, alpha?: number): T;
  addInplace(t: T, other: TensorOrNumber, alpha?: number): void;
  addcdivInplace(t: T, a: T, b: T, value: number): void;
  addcmulInplace(t: T, a: T, b: T, value: number): void;
  addmm(input: T, a: T, b: T, beta: number, alpha: number): T;
  all(t: T): T;
  allocatorPolicy(): NativeAllocatorPolicy;
  any(t: T): T;
  arange(start: number, end: number, step: number, dtype?: DtypeCode, device?: DeviceName): T;
  argmax(t: T, dim?: number, keepdim?: boolean): T;
  argmin(t: T, dim?: number, keepdim?: boolean): T;
  argsort(t: T, dim: number, descending: boolean, stable: boolean): T;
  /** See src/tensor/autocast.ts (autocast state is the calling thread's). Frees autocast's cached weight casts. */
  autocastClearCache(): void;
  /** The new nesting depth. */
  autocastDecrementNesting(): number;
  /** The new nesting depth. */
  autocastIncrementNesting(): number;
  /** dtype: the code of bfloat16 or float16. */
  autocastSet(deviceType: AutocastDeviceType, enabled: boolean, dtype: number): void;
  autocastState(deviceType: AutocastDeviceType): { enabled: boolean; dtype: number };
  avgPool2d(x: T, kernel: Ints, stride: Ints, padding: Ints, ceilMode: boolean, countIncludePad: boolean): T;
  backward(t: T, gradient: Optional, retainGraph?: boolean): void;
  batchNorm(
    x: T,
    weight: Optional,
    bias: Optional,
    runningMean: Optional,
    runningVar: Optional,
    training: boolean,
    momentum: number,
    eps: number,
  ): T;
  bernoulli(probs: T, generator?: Gen): T;
  bincount(t: T, weights: Optional, minlength: number): T;
  bitwiseAnd(a: T, b: TensorOrNumber): T;
  bitwiseLeftShift(t: T, bits: number): T;
  bitwiseNot(t: T): T;
  bitwiseOr(a: T, b: TensorOrNumber): T;
  bitwiseRightShift(t: T, bits: number): T;
  bitwiseXor(a: T, b: TensorOrNumber): T;
  bmm(a: T, b: T): T;
  cat(tensors: readonly T[], dim: number): T;
  ceil(t: T): T;
  chunk(t: T, chunks: number, dim: number): T[];
  clamp(t: T, min?: number, max?: number): T;
  clampInplace(t: T, min?: number, max?: number): void;
  clone(t: T): T;
  contiguous(t: T): T;
  contiguousChannelsLast(t: T): T;
  conv2d(x: T, weight: T, bias: Optional, stride: Ints, padding: Ints, dilation: Ints, groups: number): T;
  copyInplace(t: T, src: T): void;
  cos(t: T): T;
  crossEntropy(
    logits: T,
    target: T,
    weight: Optional,
    reduction: number,
    ignoreIndex: number,
    labelSmoothing: number,
  ): T;
  cudaDeviceCount(): number;
  cudaIsAvailable(): boolean;
  cudaSynchronize(device?: number): void;
  cumsum(t: T, dim: number): T;
  detach(t: T): T;
  device(t: T): string;
  diagonal(t: T, offset: number, dim1: number, dim2: number): T;
  /** Frees the tensor; a stale handle (already freed) is ignored. */
  /** outputs[r] receives rank r's input (native/src/dist.cpp; resolves from a background thread). */
  distAllgather(group: number, input: T, outputs: readonly T[]): Promise<void>;
  distAllreduce(group: number, tensors: readonly T[], op: 'sum' | 'max' | 'min' | 'product'): Promise<void>;
  /** '' when the addon was built with c10d's Gloo backend, else why not. */
  distAvailable(): string;
  distBarrier(group: number): Promise<void>;
  distBroadcast(group: number, tensors: readonly T[], root: number): Promise<void>;
  distDestroy(group: number): void;
  /** Rendezvous (TCPStore + ProcessGroupGloo); resolves with the group's id. */
  distInit(opts: NativeDistOptions): Promise<number>;
  distStoreGet(group: number, key: string): Promise<string>;
  distStoreSet(group: number, key: string, value: string): Promise<void>;
  dispose(t: T): void;
  div(a: T, b: TensorOrNumber): T;
  divInplace(t: T, other: TensorOrNumber): void;
  dropout(x: T, p: number, training: boolean): T;
  /** The tensor's dtype code. */
  dtype(t: T): number;
  empty(shape: Ints, dtype?: DtypeCode, device?: DeviceName): T;
  emptyLike(t: T): T;
  eq(a: T, b: TensorOrNumber): T;
  erf(t: T): T;
  exp(t: T): T;
  expand(t: T, shape: Ints): T;
  expm1(t: T): T;
  eye(n: number, dtype?: DtypeCode, device?: DeviceName): T;
  fillInplace(t: T, value: number | boolean): void;
  flatten(t: T, startDim: number, endDim: number): T;
  flip(t: T, dims: Ints): T;
  floor(t: T): T;
  /** A copy of the array's bytes as a tensor of `shape` and `dtype` (byte lengths must agree). */
  fromBuffer(data: NativeTypedArray, shape: Ints, dtype: number, device?: DeviceName): T;
  full(shape: Ints, value: number | boolean, dtype?: DtypeCode, device?: DeviceName): T;
  gather(t: T, dim: number, index: T): T;
  ge(a: T, b: TensorOrNumber): T;
  gelu(x: T): T;
  generatorDefault(): GeneratorHandle;
  generatorGetState(g: GeneratorHandle): T;
  generatorNew(seed: number): GeneratorHandle;
  generatorSeed(g: GeneratorHandle, seed: number): void;
  generatorSetState(g: GeneratorHandle, state: T): void;
  getNumThreads(): number;
  grad(t: T): T | null;
  gt(a: T, b: TensorOrNumber): T;
  hammingDistance(queries: T, gallery: T): T;
  handOverToGc(handles: readonly T[]): void;
  /** See src/tensor/kernels/jpeg.ts. */
  imageDecodeJpeg(
    bytes: Uint8Array,
    scaleDenom: number,
  ): { data: Uint8Array; width: number; height: number; channels: number } | null;
  imageDecodeJpegAvailable(): boolean;
  /** See src/tensor/kernels/image.ts. */
  imageResizeBilinear(
    src: Uint8Array,
    width: number,
    height: number,
    channels: number,
    outWidth: number,
    outHeight: number,
    x: number,
    y: number,
    w: number,
    h: number,
  ): Uint8Array;
  /** See src/tensor/kernels/image.ts (the same arguments as imageResizeBilinear). */
  imageResizeBicubic(
    src: Uint8Array,
    width: number,
    height: number,
    channels: number,
    outWidth: number,
    outHeight: number,
    x: number,
    y: number,
    w: number,
    h: number,
  ): Uint8Array;
  /** See src/tensor/kernels/image.ts. */
  imageToChw(
    src: Uint8Array,
    width: number,
    height: number,
    srcChannels: number,
    x: number,
    y: number,
    w: number,
    h: number,
    flip: boolean,
    outChannels: number,
    divisor: number,
    mean: Float64Array,
    std: Float64Array,
    bgr: boolean,
    out: Float32Array,
    outOffset: number,
  ): void;
  indexAdd(t: T, dim: number, index: T, source: T, alpha: number): T;
  indexAddInplace(t: T, dim: number, index: T, source: T, alpha: number): void;
  indexCopyInplace(t: T, dim: number, index: T, source: T): void;
  indexSelect(t: T, dim: number, index: T): T;
  isContiguous(t: T): boolean;
  isChannelsLast(t: T): boolean;
  isDisposed(t: T): boolean;
  isGradEnabled(): boolean;
  isLeaf(t: T): boolean;
  isfinite(t: T): T;
  isnan(t: T): T;
  item(t: T): number;
  /** See src/tensor/kernels/knn.ts. */
  knnFinish(state: T, k: number, scores: boolean): T;
  knnMergeHamming(
    state: T,
    queries: T,
    gallery: T,
    k: number,
    rowStart: number,
    colStart: number,
    excludeSelf: boolean,
  ): void;
  knnMergeScores(
    state: T,
    tile: T,
    k: number,
    rowStart: number,
    colStart: number,
    excludeSelf: boolean,
    transposed: boolean,
  ): void;
  layerNorm(x: T, normalizedShape: Ints, weight: Optional, bias: Optional, eps: number): T;
  le(a: T, b: TensorOrNumber): T;
  lerpInplace(t: T, end: T, weight: number): void;
  linear(x: T, weight: T, bias?: Optional): T;
  linspace(start: number, end: number, steps: number, dtype?: DtypeCode, device?: DeviceName): T;
  log(t: T): T;
  log1p(t: T): T;
  logSoftmax(x: T, dim: number): T;
  logicalAnd(a: T, b: T): T;
  logicalNot(t: T): T;
  logicalOr(a: T, b: T): T;
  logsumexp(t: T, dims: Ints, keepdim: boolean): T;
  lt(a: T, b: TensorOrNumber): T;
  manualSeed(seed: number): void;
  maskedFill(t: T, mask: T, value: number | boolean): T;
  maskedSelect(t: T, mask: T): T;
  matmul(a: T, b: T): T;
  maxAll(t: T): T;
  /** [values, indices] */
  maxDim(t: T, dim: number, keepdim: boolean): [T, T];
  maxPool2d(x: T, kernel: Ints, stride: Ints, padding: Ints, dilation: Ints, ceilMode: boolean): T;
  maximum(a: T, b: T): T;
  mean(t: T, dims?: Ints, keepdim?: boolean): T;
  memory(): { liveTensors: number; bytes: number };
  minAll(t: T): T;
  /** [values, indices] */
  minDim(t: T, dim: number, keepdim: boolean): [T, T];
  minimum(a: T, b: T): T;
  mm(a: T, b: T): T;
  mseLoss(input: T, target: T, reduction: number): T;
  mul(a: T, b: TensorOrNumber): T;
  mulInplace(t: T, other: TensorOrNumber): void;
  multinomial(probs: T, n: number, replacement: boolean, generator?: Gen): T;
  narrow(t: T, dim: number, start: number, length: number): T;
  ne(a: T, b: TensorOrNumber): T;
  neg(t: T): T;
  nllLoss(logProbs: T, target: T, weight: Optional, reduction: number, ignoreIndex: number): T;
  nonzero(t: T): T;
  norm(t: T, p: number, dims?: Ints, keepdim?: boolean): T;
  normal(shape: Ints, mean: number, std: number, dtype?: DtypeCode, device?: DeviceName, generator?: Gen): T;
  normalInplace(t: T, mean: number, std: number, generator?: Gen): void;
  normalize(x: T, p: number, dim: number, eps: number): T;
  oneHot(labels: T, numClasses: number): T;
  ones(shape: Ints, dtype?: DtypeCode, device?: DeviceName): T;
  onesLike(t: T): T;
  permute(t: T, dims: Ints): T;
  popcount(t: T): T;
  pow(t: T, exponent: TensorOrNumber): T;
  prod(t: T, dim?: number, keepdim?: boolean): T;
  rand(shape: Ints, dtype?: DtypeCode, device?: DeviceName, generator?: Gen): T;
  randint(low: number, high: number, shape: Ints, dtype?: DtypeCode, device?: DeviceName, generator?: Gen): T;
  randn(shape: Ints, dtype?: DtypeCode, device?: DeviceName, generator?: Gen): T;
  randperm(n: number, device?: DeviceName, generator?: Gen): T;
  reciprocal(t: T): T;
  relu(t: T): T;
  reluInplace(t: T): void;
  remainder(a: T, b: TensorOrNumber): T;
  repeat(t: T, times: Ints): T;
  requiresGrad(t: T): boolean;
  reshape(t: T, shape: Ints): T;
  round(t: T): T;
  rsqrt(t: T): T;
  rsub(t: T, value: number): T;
  sameStorage(a: T, b: T): boolean;
  /** See src/tensor/kernels/scan.ts. */
  scanHamming(
    codes: NativeTypedArray,
    n: number,
    bytes: number,
    queries: Uint8Array,
    nq: number,
    k: number,
    subset: Int32Array | null,
    selfRows: Int32Array | null,
    threads: number,
    level: number,
    outRows: Int32Array,
    outDistances: Int32Array,
  ): void;
  scanInnerProduct(
    vectors: NativeTypedArray,
    n: number,
    dim: number,
    stored: number,
    rowScales: Float32Array | null,
    queries: Float32Array,
    nq: number,
    k: number,
    subset: Int32Array | null,
    selfRows: Int32Array | null,
    int8Queries: boolean,
    threads: number,
    level: number,
    outRows: Int32Array,
    outScores: Float32Array,
  ): void;
  scanSimdLevels(): string[];
  setData(t: T, src: T): void;
  scatter(t: T, dim: number, index: T, src: TensorOrNumber): T;
  scatterAdd(t: T, dim: number, index: T, src: T): T;
  select(t: T, dim: number, index: number): T;
  setGrad(t: T, grad: Optional): void;
  /** Returns the previous mode. */
  setGradEnabled(enabled: boolean): boolean;
  setNumThreads(n: number): void;
  setRequiresGrad(t: T, value: boolean): void;
  shape(t: T): number[];
  sigmoid(t: T): T;
  sign(t: T): T;
  sin(t: T): T;
  slice(t: T, dim: number, start: number, end: number, step: number): T;
  softmax(x: T, dim: number): T;
  /** [values, indices] */
  sort(t: T, dim: number, descending: boolean, stable: boolean): [T, T];
  split(t: T, sizeOrSizes: number | Ints, dim: number): T[];
  sqrt(t: T): T;
  sqrtInplace(t: T): void;
  square(t: T): T;
  squeeze(t: T, dim?: number): T;
  stack(tensors: readonly T[], dim: number): T;
  std(t: T, dims: Ints | undefined, unbiased: boolean, keepdim: boolean): T;
  sub(a: T, b: TensorOrNumber, alpha?: number): T;
  subInplace(t: T, other: TensorOrNumber, alpha?: number): void;
  sum(t: T, dims: Ints | undefined, keepdim: boolean, dtype?: DtypeCode): T;
  tanh(t: T): T;
  to(t: T, dtype?: DtypeCode, device?: DeviceName, copy?: boolean): T;
  /** A copy of the tensor's bytes (contiguous, on the CPU). */
  toBuffer(t: T): ArrayBuffer;
  /** [values, indices] */
  topk(t: T, k: number, dim: number, largest: boolean, sorted: boolean): [T, T];
  transpose(t: T, dim0: number, dim1: number): T;
  tril(t: T, diagonal: number): T;
  triu(t: T, diagonal: number): T;
  uniform(shape: Ints, low: number, high: number, dtype?: DtypeCode, device?: DeviceName, generator?: Gen): T;
  uniformInplace(t: T, low: number, high: number, generator?: Gen): void;
  /** [sorted values, inverse indices, counts] */
  unique(t: T): [T, T, T];
  unsqueeze(t: T, dim: number): T;
  /** F.interpolate(x, mode='bicubic', antialias); scales: interpolate's scale_factor, when it was given. */
  upsampleBicubic2d(
    x: T,
    outputSize: Ints,
    alignCorners: boolean,
    antialias: boolean,
    scaleH?: number,
    scaleW?: number,
  ): T;
  var(t: T, dims: Ints | undefined, unbiased: boolean, keepdim: boolean): T;
  version(): { torch: string; parallel: string; hammingKernel: string };
  view(t: T, shape: Ints): T;
  where(cond: T, a: TensorOrNumber, b: TensorOrNumber): T;
  zeroInplace(t: T): void;
  zeros(shape: Ints, dtype?: DtypeCode, device?: DeviceName): T;
  zerosLike(t: T): T;
}
