// Batch samplers over a labels array: the paper's class-balanced sampler and plain shuffling.
export { type ClassBalancedOptions, ClassBalancedSampler } from './class-balanced.js';
export { type ShuffleOptions, ShuffleSampler } from './shuffle.js';
export type { BatchSampler, SamplerState } from './types.js';
