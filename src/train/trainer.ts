// The training loop of the recipe (spec section 3): an optional warm-up phase that trains only the new
// parameters (class weights and the remap layer; the backbone is frozen but its BatchNorm layers stay in
// train mode, so their running statistics still update, as in the reference), then SGD over all
// parameters with a fresh optimiser and the step schedule. After every epoch: a checkpoint
// (OUT/last.safetensors, atomic) and a metrics.jsonl record; every evalEvery main-phase epochs and at
// the end: zero-shot evaluation on the test classes.
import { join } from 'node:path';
import type { BatchSampler } from '../data/samplers/types.js';
import type { BatchSource, TrainingBatch } from '../data/sources/types.js';
import { embedBatch } from '../embed/embed-batch.js';
import { formatMetricsLine } from '../eval/format-metrics.js';
import { sampleClassSubset } from '../loss/class-subset.js';
import { NormSoftmaxLoss } from '../loss/normsoftmax.js';
import type { MetricLoss } from '../loss/types.js';
import type { Embedder } from '../nn/embedder.js';
import { type Device, Generator, scope, type Tensor, tensor } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { accumulatedRowGrad } from '../tensor/row-sparse.js';
import { FailureError } from '../util/errors.js';
import { createProgress } from '../util/progress.js';
import type { Rng } from '../util/rng.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type Checkpoint, saveCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { appendMetrics, type EpochRecord, type EvalRecord, type MetricsRecord } from './metrics.js';
import { AdamW } from './optim/adamw.js';
import type { Optimizer, ParamGroup } from './optim/optimizer.js';
import { SGD } from './optim/sgd.js';
import type { DataParallel } from './parallel.js';
import { type EpochPlan, planEpoch } from './schedule.js';

export interface TrainableLoss extends MetricLoss {
  namedParameters(): Record<string, Tensor>;
  /** The loss's own RNG (NormSoftmax's class subsampling), saved with checkpoints. */
  readonly rng?: Rng;
}

export interface TrainingSetup {
  config: TrainConfig;
  model: Embedder;
  loss: TrainableLoss;
  sampler: BatchSampler;
  source: BatchSource;
  numClasses: number;
  /** Zero-shot evaluation of the current model (it is put in eval mode by the trainer). */
  /** null: not this rank's to report (a data-parallel rank other than 0, which helped embed). */
  evaluate: (model: Embedder) => Promise<EvalRecord | null>;
  /** Where checkpoints and metrics.jsonl go. */
  outDir: string;
  silent?: boolean;
  log?: (line: string) => void;
  /** bf16: the model's forward under autocast, its embeddings cast to float32 for the loss (default fp32). */
  precision?: Precision;
  /** Data-parallel training (src/parallel): this process is one rank; absent for a single process. */
  parallel?: DataParallel;
  /** The training labels (by sample index): with `parallel`, the global batch's classes pick S. */
  trainLabels?: readonly number[];
}

export interface TrainingState {
  /** Epochs completed (warm-up included). */
  epochsDone: number;
  step: number;
  lastEval: EvalRecord | null;
}

export interface ResumeFrom {
  checkpoint: Checkpoint;
}

export function totalTrainingEpochs(c: TrainConfig): number {
  return c.warmupEpochs + c.epochsPerStep * c.numSteps;
}

const LOSS_RECORD_EVERY = 10;

function makeOptimizer(c: TrainConfig, groups: ParamGroup[], lr: number): Optimizer {
  return c.optimizer === 'adamw'
    ? new AdamW(groups, { lr, weightDecay: c.weightDecay })
    : new SGD(groups, { lr, momentum: c.momentum, weightDecay: c.weightDecay });
}

function phaseGroups(s: TrainingSetup, plan: EpochPlan): ParamGroup[] {
  const fresh = [...s.model.newParameters(), ...s.loss.parameters()];
  if (plan.phase === 'warmup') return [{ params: fresh }];
  return [
    { params: s.model.backboneParameters(), lrMult: 1 },
    { params: fresh, lrMult: s.config.lrMult },
  ];
}

function setBackboneFrozen(model: Embedder, frozen: boolean): void {
  for (const p of model.backboneParameters()) p.requiresGrad = !frozen;
}

/** Consecutive batches with a non-finite loss (each skipped, no update) after which training stops. */
export const MAX_NONFINITE_BATCHES = 5;

/** What one batch did: its loss, and whether it had nothing to learn from or was skipped. */
interface BatchOutcome {
  loss: number;
  /** The loss found no valid triplet (a zero loss; the step still ran: weight decay, momentum). */
  empty: boolean;
}

/**
 * Runs (or resumes) training to the configured number of epochs. Whatever throws, the batch being
 * loaded ahead is awaited and freed, and the optimiser's state is freed, before the error reaches the
 * caller.
 */
export async function runTraining(s: TrainingSetup, resume?: ResumeFrom): Promise<TrainingState> {
  const c = s.config;
  const log = s.log ?? ((line: string) => console.error(line));
  const total = totalTrainingEpochs(c);
  const metricsPath = join(s.outDir, 'metrics.jsonl');
  const state: TrainingState = { epochsDone: 0, step: 0, lastEval: null };
  let optimizer: Optimizer | null = null;
  let optimizerPhase: EpochPlan['phase'] | null = null;
  let ahead: Promise<TrainingBatch> | null = null;
  let nonFiniteRun = 0;
  const parallel = s.parallel;
  const isMain = parallel === undefined || parallel.isMain;

  try {
    if (resume) {
      const m = resume.checkpoint.meta;
      state.epochsDone = m.epochsDone;
      state.step = m.step;
      state.lastEval = m.lastEval;
      s.sampler.restore(m.sampler);
      if (m.lossRng && s.loss.rng) s.loss.rng.restore(m.lossRng);
      if (resume.checkpoint.torchRng) Generator.default().setState(resume.checkpoint.torchRng.toBytes());
      if (m.optimizer && m.epochsDone < total) {
        const plan = planEpoch(m.epochsDone, c);
        const savedPlan = planEpoch(m.epochsDone - 1, c);
        // A new phase starts with a new optimiser (spec); within a phase, the saved state continues.
        if (plan.phase === savedPlan.phase) {
          optimizer = makeOptimizer(c, phaseGroups(s, plan), plan.lr);
          optimizer.loadStateDict({ meta: m.optimizer, tensors: resume.checkpoint.optimizer });
          optimizerPhase = plan.phase;
        }
      }
      log(`resuming after epoch ${m.epochsDone} of ${total}`);
    }
    if (parallel) await parallel.start([...s.model.parameters(), ...s.loss.parameters()], modelBuffers(s.model));

    for (let epoch = state.epochsDone; epoch < total; epoch++) {
      const plan = planEpoch(epoch, c);
      if (optimizerPhase !== plan.phase) {
        optimizer?.dispose();
        optimizer = makeOptimizer(c, phaseGroups(s, plan), plan.lr);
        optimizerPhase = plan.phase;
      }
      const opt = optimizer as Optimizer;
      opt.setLr(plan.lr);
      setBackboneFrozen(s.model, plan.phase === 'warmup');
      s.model.train();

      const batches =
        c.maxBatchesPerEpoch > 0
          ? Math.min(c.maxBatchesPerEpoch, s.sampler.batchesPerEpoch)
          : s.sampler.batchesPerEpoch;
      const progress = createProgress({
        label: `epoch ${epoch + 1}/${total} ${plan.phase}`,
        total: batches,
        silent: s.silent || !isMain,
      });
      const started = Date.now();
      let lossSum = 0;
      let stepped = 0;
      let images = 0;
      let emptyBatches = 0;
      let skippedBatches = 0;
      const draw = parallel
        ? (b: number) => drawShard(s, parallel, epoch, b)
        : (b: number) => s.source.load(s.sampler.nextBatch(), epoch, b);
      try {
        ahead = draw(0);
        for (let b = 0; b < batches; b++) {
          const current = ahead as Promise<TrainingBatch>;
          ahead = null;
          const batch = await current;
          if (b + 1 < batches) ahead = draw(b + 1);
          let outcome: BatchOutcome | null;
          try {
            images += batch.images.size(0) * (parallel?.worldSize ?? 1);
            outcome = parallel ? await trainStepParallel(s, parallel, opt, batch) : trainStep(s, opt, batch);
          } finally {
            batch.images.dispose();
            batch.labels.dispose();
          }
          state.step += 1;
          if (outcome === null) {
            // A non-finite loss: no update from it; several in a row mean training has diverged.
            skippedBatches++;
            nonFiniteRun++;
            if (nonFiniteRun >= MAX_NONFINITE_BATCHES) {
              throw new FailureError(
                `training diverged: the loss was not finite for ${nonFiniteRun} batches in a row (epoch ${epoch + 1}, batch ${b + 1}); try a lower --lr`,
              );
            }
          } else {
            nonFiniteRun = 0;
            if (outcome.empty) emptyBatches++;
            lossSum += outcome.loss;
            stepped++;
            if (isMain && (state.step % LOSS_RECORD_EVERY === 0 || b === batches - 1)) {
              appendMetrics(metricsPath, {
                type: 'step',
                epoch: epoch + 1,
                step: state.step,
                loss: outcome.loss,
                lr: plan.lr,
              });
            }
          }
          const seconds = (Date.now() - started) / 1000;
          progress.update(b + 1, {
            loss: stepped > 0 ? lossSum / stepped : Number.NaN,
            lr: plan.lr,
            'img/s': Math.round(images / Math.max(seconds, 1e-3)),
          });
        }
      } finally {
        progress.stop();
      }
      // A sampler capped by maxBatchesPerEpoch is moved to the next epoch so that resume stays exact.
      while (s.sampler.epoch === epoch && s.sampler.batchInEpoch > 0) s.sampler.nextBatch();
      const seconds = (Date.now() - started) / 1000;
      const record: EpochRecord = {
        type: 'epoch',
        epoch: epoch + 1,
        phase: plan.phase === 'warmup' ? 'warmup' : 'train',
        loss: stepped > 0 ? lossSum / stepped : Number.NaN,
        lr: plan.lr,
        imagesPerSecond: images / Math.max(seconds, 1e-9),
        seconds,
        emptyBatches,
        skippedBatches,
      };
      if (emptyBatches > 0 && isMain) {
        log(`epoch ${epoch + 1}: ${emptyBatches} of ${batches} batches had no valid triplet (zero loss)`);
      }
      if (skippedBatches > 0 && isMain) {
        log(`epoch ${epoch + 1}: ${skippedBatches} of ${batches} batches skipped (loss not finite, no update)`);
      }
      const isLast = epoch + 1 === total;
      // With data parallelism every rank embeds its share of the test images and rank 0 reports.
      if (isLast || (plan.phase === 'main' && (plan.epochInPhase + 1) % c.evalEvery === 0)) {
        s.model.eval();
        // rank 0's BatchNorm statistics on every rank, so each embeds its share as rank 0 would
        if (parallel) await parallel.beforeForward(modelBuffers(s.model));
        const result = await s.evaluate(s.model);
        if (result !== null) {
          record.eval = result;
          state.lastEval = result;
          log(formatEval(epoch + 1, result));
        }
      }
      state.epochsDone = epoch + 1;
      // The record first: a kill between the two leaves a record past the checkpoint, which resume
      // trims; the other order would lose the record of an epoch the checkpoint includes.
      if (isMain) {
        appendMetrics(metricsPath, record);
        writeCheckpoint(s, state, opt, join(s.outDir, 'last.safetensors'));
      }
      if (parallel) await parallel.barrier();
    }
    return state;
  } finally {
    if (ahead !== null) await discard(ahead);
    optimizer?.dispose();
  }
}

/**
 * Forward, backward and, when the loss is finite, the optimiser step. Returns null for a non-finite loss
 * (its gradients are dropped: no update is ever applied from it).
 */
function trainStep(s: TrainingSetup, opt: Optimizer, batch: TrainingBatch): BatchOutcome | null {
  const c = s.config;
  return scope(() => {
    const onDevice = c.device === 'cpu';
    const x = onDevice ? batch.images : batch.images.to(c.device as Device);
    const y = onDevice ? batch.labels : batch.labels.to(c.device as Device);
    const embeddings = embedBatch(s.model, x, s.precision);
    const loss = s.loss.forward(embeddings, y);
    const empty = s.loss.lastForwardEmpty === true;
    loss.backward();
    const value = loss.item();
    if (Number.isFinite(value)) opt.step();
    opt.zeroGrad();
    return Number.isFinite(value) ? { loss: value, empty } : null;
  });
}

type ShardBatch = TrainingBatch & { globalLabels?: number[] };

/** This rank's slice of the next global batch, with the global batch's labels (they pick S). */
function drawShard(s: TrainingSetup, p: DataParallel, epoch: number, b: number): Promise<ShardBatch> {
  const global = s.sampler.nextBatch();
  const labels = s.trainLabels;
  const globalLabels = labels ? global.map((i) => labels[i] as number) : undefined;
  return s.source.load(p.shard(global), epoch, b).then((batch) => Object.assign(batch, { globalLabels }));
}

function modelBuffers(model: Embedder): Tensor[] {
  return model.namedBuffers().map(([, t]) => t);
}

/**
 * trainStep on one rank: forward and backward on this rank's slice, gradients averaged over the
 * ranks, then the same step on every rank. NormSoftmax's class subset comes from the global batch's
 * labels, so every rank (and a single process on the global batch) softmaxes over the same S.
 */
async function trainStepParallel(
  s: TrainingSetup,
  p: DataParallel,
  opt: Optimizer,
  batch: ShardBatch,
): Promise<BatchOutcome | null> {
  const c = s.config;
  await p.beforeForward(modelBuffers(s.model));
  const local = scope(() => {
    const onDevice = c.device === 'cpu';
    const x = onDevice ? batch.images : batch.images.to(c.device as Device);
    const y = onDevice ? batch.labels : batch.labels.to(c.device as Device);
    const embeddings = embedBatch(s.model, x, s.precision);
    const l = s.loss;
    const loss =
      batch.globalLabels && l instanceof NormSoftmaxLoss && l.subsetSize < l.numClasses
        ? l.forwardOnClasses(
            embeddings,
            y,
            sampleClassSubset(batch.globalLabels, l.numClasses, l.subsetSize, l.rng).classes,
          )
        : l.forward(embeddings, y);
    const empty = l.lastForwardEmpty === true;
    loss.backward();
    return { value: loss.item(), empty };
  });
  const params = [...s.model.parameters(), ...s.loss.parameters()];
  const grads = params.flatMap((t) => {
    const g = t.grad;
    return g === null ? [] : [g];
  });
  const rowGrads = s.loss.parameters().flatMap((t) => {
    const g = accumulatedRowGrad(t);
    return g === null ? [] : [g];
  });
  let value: number;
  try {
    value = await p.averageGradients([...grads, ...rowGrads], local.value);
  } finally {
    for (const g of grads) g.dispose();
  }
  scope(() => {
    if (Number.isFinite(value)) opt.step();
    opt.zeroGrad();
  });
  return Number.isFinite(value) ? { loss: value, empty: local.empty } : null;
}

/** Waits for a batch nobody will train on and frees it; its error, if any, is not the one to report. */
async function discard(pending: Promise<TrainingBatch>): Promise<void> {
  try {
    const batch = await pending;
    batch.images.dispose();
    batch.labels.dispose();
  } catch {
    // The error that stopped training is the one the caller gets.
  }
}

function writeCheckpoint(s: TrainingSetup, state: TrainingState, opt: Optimizer, path: string): void {
  scope(() => {
    const optState = opt.stateDict();
    const rng = Generator.default().getState();
    const checkpoint: Checkpoint = {
      meta: {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        config: s.config,
        epochsDone: state.epochsDone,
        numClasses: s.numClasses,
        step: state.step,
        optimizer: optState.meta,
        sampler: s.sampler.state(),
        lossRng: s.loss.rng?.state() ?? null,
        lastEval: state.lastEval,
        savedAt: new Date().toISOString(),
        ...(s.parallel ? { worldSize: s.parallel.worldSize } : {}),
      },
      model: s.model.stateDict(),
      loss: s.loss.namedParameters(),
      optimizer: optState.tensors,
      torchRng: tensor(rng),
    };
    saveCheckpoint(path, checkpoint);
  });
}

export function formatEval(epoch: number, e: EvalRecord): string {
  return `epoch ${epoch}: ${formatMetricsLine(e)}`;
}

export type { MetricsRecord };
