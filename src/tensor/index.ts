// The tensor engine's public API.
export { type DType, type TypedArray, ELEMENT_SIZE, isFloating } from './dtype.js';
export { Tensor, type Device, type Operand, type Reduction } from './tensor.js';
export { scope, keep } from './scope.js';
export {
  tensor,
  scalar,
  empty,
  zeros,
  ones,
  full,
  arange,
  linspace,
  eye,
  zerosLike,
  onesLike,
  emptyLike,
  cat,
  stack,
  where,
  oneHot,
  type CreateOptions,
} from './create.js';
export {
  Generator,
  manualSeed,
  rand,
  randn,
  uniform,
  normal,
  randint,
  randperm,
  multinomial,
  bernoulli,
  type RandomOptions,
} from './random.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd.js';
export { memory, setNumThreads, getNumThreads, cuda, libtorchVersion, type MemoryInfo } from './runtime.js';
export * as F from './functional.js';
