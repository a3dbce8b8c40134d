// The metric-learning losses, and the registry that training looks them up in by name (--loss NAME).
// A new loss is one file (a class implementing MetricLoss, types.ts, and a LossFactory) and one entry
// in LOSSES below, e.g. `arcface: createArcFace,`; the settings it reads are LossSettings (types.ts).
import { createNormSoftmax } from './normsoftmax.js';
import { createProxyNca } from './proxynca.js';
import { createTriplet } from './triplet.js';
import type { LossArgs, LossFactory, MetricLoss } from './types.js';

export const LOSSES = {
  normsoftmax: createNormSoftmax,
  triplet: createTriplet,
  proxynca: createProxyNca,
} satisfies Record<string, LossFactory>;

export type LossName = keyof typeof LOSSES;
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

export function isLossName(name: string): name is LossName {
  return Object.hasOwn(LOSSES, name);
}

/** The loss registered as `name`. */
export function createLoss(name: LossName, args: LossArgs): MetricLoss {
  if (!isLossName(name)) throw new RangeError(`unknown loss "${name}"; expected one of ${LOSS_NAMES.join(', ')}`);
  return LOSSES[name](args);
}

export { type ClassSubset, sampleClassSubset } from './class-subset.js';
export { NormSoftmaxLoss, type NormSoftmaxOptions } from './normsoftmax.js';
export { ProxyNcaLoss, type ProxyNcaOptions } from './proxynca.js';
export { type TripletOptions, TripletSemiHardLoss } from './triplet.js';
export type { BatchContext, LossArgs, LossFactory, LossSettings, MetricLoss } from './types.js';
