// The metric-learning losses.
export { type ClassSubset, sampleClassSubset } from './class-subset.js';
export { NormSoftmaxLoss, type NormSoftmaxOptions } from './normsoftmax.js';
export { ProxyNcaLoss, type ProxyNcaOptions } from './proxynca.js';
export { type TripletOptions, TripletSemiHardLoss } from './triplet.js';
export type { MetricLoss } from './types.js';
