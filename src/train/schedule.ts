// Learning-rate schedule of the recipe (spec section 3): an optional warm-up phase that trains only
// the new parameters, then a step schedule lr * gamma^floor(epoch / epochsPerStep) counted from the
// first epoch after the warm-up. For ViTs the main phase may instead follow a cosine to 0 over its
// epochs, and start with a linear lr ramp (both per epoch).

export interface StepScheduleOptions {
  /** Base learning rate of the main phase. */
  lr: number;
  gamma: number;
  epochsPerStep: number;
}

/** lr * gamma^floor(epoch / epochsPerStep), epoch counted from 0. */
export function stepLr(epoch: number, o: StepScheduleOptions): number {
  if (!Number.isInteger(epoch) || epoch < 0)
    throw new RangeError(`stepLr: epoch must be an integer >= 0, got ${epoch}`);
  if (!Number.isInteger(o.epochsPerStep) || o.epochsPerStep < 1) {
    throw new RangeError(`stepLr: epochsPerStep must be an integer >= 1, got ${o.epochsPerStep}`);
  }
  return o.lr * o.gamma ** Math.floor(epoch / o.epochsPerStep);
}

export interface RecipeScheduleOptions extends StepScheduleOptions {
  /** Epochs of phase A (only the new parameters train, with lr * lrMult); 0 = none. */
  warmupEpochs: number;
  /** Multiplier of the new parameters' lr (phase A, and their group in phase B). */
  lrMult: number;
  /** The main phase: 'step' (default) or 'cosine' over its epochsPerStep * numSteps epochs. */
  schedule?: 'step' | 'cosine';
  /** Main-phase epochs; needed by the cosine (epochsPerStep * numSteps). */
  numSteps?: number;
  /** The main phase's first n epochs ramp the lr: lr * (e + 1) / (n + 1); default 0. */
  lrWarmupEpochs?: number;
}

/**
 * The main phase's lr at its epoch e: the linear ramp over the first lrWarmupEpochs, then the step
 * schedule, or lr / 2 * (1 + cos(pi * (e - W) / (E - W))) over the E main epochs after the W ramp ones.
 */
export function mainLr(e: number, o: RecipeScheduleOptions): number {
  const ramp = o.lrWarmupEpochs ?? 0;
  if (e < ramp) return (o.lr * (e + 1)) / (ramp + 1);
  if ((o.schedule ?? 'step') === 'step') return stepLr(e, o);
  const total = o.epochsPerStep * (o.numSteps ?? 1);
  if (ramp >= total) throw new RangeError(`mainLr: ${ramp} ramp epochs leave none of ${total} for the cosine`);
  return (o.lr / 2) * (1 + Math.cos((Math.PI * (e - ramp)) / (total - ramp)));
}

export type EpochPlan =
  | { phase: 'warmup'; epochInPhase: number; lr: number }
  | { phase: 'main'; epochInPhase: number; lr: number };

/**
 * What epoch `epoch` (0-based, warm-up epochs first) does. In the warm-up, lr is the new parameters'
 * lr (lr * lrMult); in the main phase, lr is the base lr of the step schedule (groups multiply it).
 */
export function planEpoch(epoch: number, o: RecipeScheduleOptions): EpochPlan {
  if (!Number.isInteger(epoch) || epoch < 0)
    throw new RangeError(`planEpoch: epoch must be an integer >= 0, got ${epoch}`);
  if (!Number.isInteger(o.warmupEpochs) || o.warmupEpochs < 0) {
    throw new RangeError(`planEpoch: warmupEpochs must be an integer >= 0, got ${o.warmupEpochs}`);
  }
  if (epoch < o.warmupEpochs) return { phase: 'warmup', epochInPhase: epoch, lr: o.lr * o.lrMult };
  const epochInPhase = epoch - o.warmupEpochs;
  return { phase: 'main', epochInPhase, lr: mainLr(epochInPhase, o) };
}
