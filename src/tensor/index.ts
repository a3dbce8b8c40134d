// The tensor engine's public API.

export { enableGrad, isGradEnabled, noGrad } from './autograd.js';
export {
  arange,
  type CreateOptions,
  cat,
  empty,
  emptyLike,
  eye,
  full,
  linspace,
  oneHot,
  ones,
  onesLike,
  scalar,
  stack,
  tensor,
  where,
  zeros,
  zerosLike,
} from './create.js';
export { type DType, ELEMENT_SIZE, isFloating, type TypedArray } from './dtype.js';
export * as F from './functional.js';
export {
  bernoulli,
  Generator,
  manualSeed,
  multinomial,
  normal,
  type RandomOptions,
  rand,
  randint,
  randn,
  randperm,
  uniform,
} from './random.js';
export { cuda, getNumThreads, libtorchVersion, type MemoryInfo, memory, setNumThreads } from './runtime.js';
export { keep, scope } from './scope.js';
export { type Device, type Operand, type Reduction, Tensor } from './tensor.js';
