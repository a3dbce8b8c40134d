// The training loop of the recipe (spec section 3): an optional warm-up phase that trains only the new
// parameters (class weights and the remap layer; the backbone is frozen but its BatchNorm layers stay in
// train mode, so their running statistics still update, as in the reference), then SGD over all
// parameters with a fresh optimiser and the step schedule. After every epoch: a checkpoint
// (OUT/last.safetensors, atomic) and a metrics.jsonl record; every evalEvery main-phase epochs and at
// the end: zero-shot evaluation on the test classes. Trainer names the steps (resume, epoch, step,
// endOfEpoch); the loss and the process layout (TrainingHooks, parallel.ts) are behind interfaces.
import { join } from 'node:path';
import type { BatchSampler } from '../data/samplers/types.js';
import type { BatchSource, TrainingBatch } from '../data/sources/types.js';
import { embedBatch } from '../embed/embed-batch.js';
import { formatMetricsLine } from '../eval/format-metrics.js';
import type { BatchContext, MetricLoss } from '../loss/types.js';
import type { Embedder } from '../nn/embedder.js';
import { type Device, Generator, scope, type Tensor, tensor } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { FailureError } from '../util/errors.js';
import { createProgress } from '../util/progress.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type Checkpoint, saveCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { appendMetrics, type EpochRecord, type EvalRecord, type MetricsRecord } from './metrics.js';
import { AdamW } from './optim/adamw.js';
import type { Optimizer, ParamGroup } from './optim/optimizer.js';
import { SGD } from './optim/sgd.js';
import { optimizerParamNames, optimizerStateToLoad } from './optimizer-resume.js';
import { type DataParallel, dataParallelHooks, ONE_PROCESS, type TrainingHooks } from './parallel.js';
import { backboneGroups, exemptFromDecay } from './param-groups.js';
import { type EpochPlan, planEpoch } from './schedule.js';

/** Any MetricLoss trains: its parameters, namedParameters (checkpoints), and the optional beginBatch and rng. */
export type TrainableLoss = MetricLoss;

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
  /**
   * The training labels (by sample index): each batch's context (BatchContext.labels) holds its global
   * batch's labels from them. Needed with `parallel`; without, the context has the batch's own labels.
   */
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

/** The parameters a run adds to the backbone: the remap layer's and the loss's (class weights). */
function freshParameters(s: TrainingSetup): Tensor[] {
  return [...s.model.newParameters(), ...s.loss.parameters()];
}

/** Every trainable parameter's name: the model's state-dict key, or loss.<name>. */
function parameterNames(s: TrainingSetup): Map<Tensor, string> {
  const names = new Map<Tensor, string>(s.model.namedParameters().map(([name, t]) => [t, name]));
  for (const [name, t] of Object.entries(s.loss.namedParameters())) names.set(t, `loss.${name}`);
  return names;
}

function phaseGroups(s: TrainingSetup, plan: EpochPlan): ParamGroup[] {
  const c = s.config;
  const fresh = freshParameters(s);
  // The paper's SGD recipe decays every parameter; AdamW (the ViTs' recipe) only weights, here as in the
  // backbone (src/train/param-groups.ts).
  const decayMask = c.optimizer === 'adamw';
  const freshGroups = (lrMult: number): ParamGroup[] => {
    if (!decayMask) return [{ params: fresh, lrMult }];
    const exempt = fresh.filter((p) => exemptFromDecay('', p));
    const decayed = fresh.filter((p) => !exemptFromDecay('', p));
    return [
      { params: decayed, lrMult },
      { params: exempt, lrMult, weightDecay: 0 },
    ].filter((g) => g.params.length > 0);
  };
  if (plan.phase === 'warmup') return freshGroups(1);
  if (c.freezeBackbone) return freshGroups(c.lrMult);
  if (!decayMask && c.layerDecay === 1) {
    return [{ params: s.model.backboneParameters(), lrMult: 1 }, ...freshGroups(c.lrMult)];
  }
  const backbone = backboneGroups(s.model.backbone, {
    weightDecay: c.weightDecay,
    decayMask,
    layerDecay: c.layerDecay,
  });
  return [...backbone, ...freshGroups(c.lrMult)];
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

/** What one epoch's batches added up to, for its record. */
interface EpochTotals {
  plan: EpochPlan;
  batches: number;
  lossSum: number;
  /** Batches whose update was applied (a finite loss). */
  stepped: number;
  images: number;
  emptyBatches: number;
  skippedBatches: number;
  seconds: number;
}

/** A batch being loaded, with the labels of its whole (global) batch, or null to read them off the batch. */
interface Loaded {
  batch: TrainingBatch;
  globalLabels: number[] | null;
}

/**
 * Runs (or resumes) training to the configured number of epochs. Whatever throws, the batch being
 * loaded ahead is awaited and freed, and the optimiser's state is freed, before the error reaches the
 * caller.
 */
export async function runTraining(s: TrainingSetup, resume?: ResumeFrom): Promise<TrainingState> {
  return new Trainer(s).run(resume);
}

/**
 * The loop in named steps: resume, then per epoch `epoch` (its `step`s) and `endOfEpoch` (evaluation,
 * metrics record, checkpoint). It knows no loss in particular: a loss that draws something per batch does
 * it in its beginBatch(ctx); and no process layout: data parallelism is its TrainingHooks.
 */
export class Trainer {
  readonly state: TrainingState = { epochsDone: 0, step: 0, lastEval: null };
  readonly #s: TrainingSetup;
  readonly #hooks: TrainingHooks;
  readonly #total: number;
  readonly #metricsPath: string;
  readonly #log: (line: string) => void;
  #optimizer: Optimizer | null = null;
  #optimizerPhase: EpochPlan['phase'] | null = null;
  /** The next batch, loading while the current one trains. */
  #ahead: Promise<Loaded> | null = null;
  /** Consecutive batches with a non-finite loss. */
  #nonFiniteRun = 0;

  constructor(s: TrainingSetup) {
    this.#s = s;
    this.#hooks = s.parallel ? dataParallelHooks(s.parallel) : ONE_PROCESS;
    if (s.parallel && !s.trainLabels) {
      throw new Error('runTraining: data-parallel training needs trainLabels (every rank draws from the global batch)');
    }
    this.#total = totalTrainingEpochs(s.config);
    this.#metricsPath = join(s.outDir, 'metrics.jsonl');
    this.#log = s.log ?? ((line: string) => console.error(line));
  }

  async run(from?: ResumeFrom): Promise<TrainingState> {
    const { model } = this.#s;
    try {
      if (from) this.resume(from);
      await this.#hooks.start(this.#parameters(), modelBuffers(model));
      for (let epoch = this.state.epochsDone; epoch < this.#total; epoch++) {
        const totals = await this.epoch(epoch);
        await this.endOfEpoch(epoch, totals);
      }
      return this.state;
    } finally {
      if (this.#ahead !== null) await discard(this.#ahead);
      this.#optimizer?.dispose();
    }
  }

  /** Restores a checkpoint's counters, sampler, RNGs and (within its phase) optimiser state. */
  resume(from: ResumeFrom): void {
    const c = this.#s.config;
    const m = from.checkpoint.meta;
    this.state.epochsDone = m.epochsDone;
    this.state.step = m.step;
    this.state.lastEval = m.lastEval;
    this.#s.sampler.restore(m.sampler);
    if (m.lossRng && this.#s.loss.rng) this.#s.loss.rng.restore(m.lossRng);
    if (from.checkpoint.torchRng) Generator.default().setState(from.checkpoint.torchRng.toBytes());
    if (m.optimizer && m.epochsDone < this.#total) {
      const plan = planEpoch(m.epochsDone, c);
      const savedPlan = planEpoch(m.epochsDone - 1, c);
      // A new phase starts with a new optimiser (spec); within a phase, the saved state continues.
      if (plan.phase === savedPlan.phase) {
        const optimizer = makeOptimizer(c, phaseGroups(this.#s, plan), plan.lr);
        this.#optimizer = optimizer;
        const fresh = freshParameters(this.#s);
        const backbone = plan.phase === 'warmup' || c.freezeBackbone ? [] : this.#s.model.backboneParameters();
        const state = optimizerStateToLoad({
          optimizer,
          checkpoint: from.checkpoint,
          nameOf: parameterNames(this.#s),
          legacy: {
            order: [...backbone, ...fresh],
            sizes: backbone.length > 0 ? [backbone.length, fresh.length] : [fresh.length],
          },
          log: this.#log,
        });
        optimizer.loadStateDict(state);
        this.#optimizerPhase = plan.phase;
      }
    }
    this.#log(`resuming after epoch ${m.epochsDone} of ${this.#total}`);
  }

  /**
   * One epoch's batches. The warm-up trains only the new parameters: the backbone's are frozen, but the
   * model stays in train mode (its BatchNorm statistics still update), as in the reference.
   */
  async epoch(epoch: number): Promise<EpochTotals> {
    const { config: c, model, sampler } = this.#s;
    const plan = planEpoch(epoch, c);
    this.#phaseOptimizer(plan).setLr(plan.lr);
    setBackboneFrozen(model, plan.phase === 'warmup' || c.freezeBackbone);
    model.train();

    const batches =
      c.maxBatchesPerEpoch > 0 ? Math.min(c.maxBatchesPerEpoch, sampler.batchesPerEpoch) : sampler.batchesPerEpoch;
    const progress = createProgress({
      label: `epoch ${epoch + 1}/${this.#total} ${plan.phase}`,
      total: batches,
      silent: this.#s.silent || !this.#hooks.isMain,
    });
    const started = Date.now();
    const t: EpochTotals = {
      plan,
      batches,
      lossSum: 0,
      stepped: 0,
      images: 0,
      emptyBatches: 0,
      skippedBatches: 0,
      seconds: 0,
    };
    try {
      this.#ahead = this.#load(epoch, 0);
      for (let b = 0; b < batches; b++) {
        const current = this.#ahead as Promise<Loaded>;
        this.#ahead = null;
        const { batch, globalLabels } = await current;
        if (b + 1 < batches) this.#ahead = this.#load(epoch, b + 1);
        let outcome: BatchOutcome | null;
        try {
          t.images += batch.images.size(0) * this.#hooks.worldSize;
          const ctx: BatchContext = {
            labels: globalLabels ?? batch.labels.toArray(),
            epoch,
            step: this.state.step,
            rank: this.#hooks.rank,
            worldSize: this.#hooks.worldSize,
          };
          outcome = await this.step(batch, ctx);
        } finally {
          batch.images.dispose();
          batch.labels.dispose();
        }
        this.state.step += 1;
        this.#count(outcome, t, epoch, b);
        const seconds = (Date.now() - started) / 1000;
        progress.update(b + 1, {
          loss: t.stepped > 0 ? t.lossSum / t.stepped : Number.NaN,
          lr: plan.lr,
          'img/s': Math.round(t.images / Math.max(seconds, 1e-3)),
        });
      }
    } finally {
      progress.stop();
    }
    // A sampler capped by maxBatchesPerEpoch is moved to the next epoch so that resume stays exact.
    while (sampler.epoch === epoch && sampler.batchInEpoch > 0) sampler.nextBatch();
    t.seconds = (Date.now() - started) / 1000;
    return t;
  }

  /**
   * One batch: the loss's beginBatch, forward and backward, the gradient all-reduce hook, then the
   * optimiser step when the loss is finite. Returns null for a non-finite loss (its gradients are
   * dropped: no update is ever applied from it).
   */
  async step(batch: TrainingBatch, ctx: BatchContext): Promise<BatchOutcome | null> {
    const { config: c, model, loss } = this.#s;
    const optimizer = this.#optimizer as Optimizer;
    loss.beginBatch?.(ctx);
    await this.#hooks.beforeForward(modelBuffers(model));
    const local = scope(() => {
      const onDevice = c.device === 'cpu';
      const x = onDevice ? batch.images : batch.images.to(c.device as Device);
      const y = onDevice ? batch.labels : batch.labels.to(c.device as Device);
      // --freeze-backbone: the batch holds the backbone's cached features, only the head runs.
      const embeddings = c.freezeBackbone ? model.head(x) : embedBatch(model, x, this.#s.precision);
      const value = loss.forward(embeddings, y);
      const empty = loss.lastForwardEmpty === true;
      value.backward();
      return { value: value.item(), empty };
    });
    const value = await this.#hooks.allReduceGradients(this.#parameters(), loss.parameters(), local.value);
    scope(() => {
      if (Number.isFinite(value)) optimizer.step();
      optimizer.zeroGrad();
    });
    return Number.isFinite(value) ? { loss: value, empty: local.empty } : null;
  }

  /** After an epoch: evaluation when due, the metrics record, then the checkpoint. */
  async endOfEpoch(epoch: number, t: EpochTotals): Promise<void> {
    const { config: c } = this.#s;
    const isMain = this.#hooks.isMain;
    const record: EpochRecord = {
      type: 'epoch',
      epoch: epoch + 1,
      phase: t.plan.phase === 'warmup' ? 'warmup' : 'train',
      loss: t.stepped > 0 ? t.lossSum / t.stepped : Number.NaN,
      lr: t.plan.lr,
      imagesPerSecond: t.images / Math.max(t.seconds, 1e-9),
      seconds: t.seconds,
      emptyBatches: t.emptyBatches,
      skippedBatches: t.skippedBatches,
    };
    if (t.emptyBatches > 0 && isMain) {
      this.#log(`epoch ${epoch + 1}: ${t.emptyBatches} of ${t.batches} batches had no valid triplet (zero loss)`);
    }
    if (t.skippedBatches > 0 && isMain) {
      this.#log(`epoch ${epoch + 1}: ${t.skippedBatches} of ${t.batches} batches skipped (loss not finite, no update)`);
    }
    const isLast = epoch + 1 === this.#total;
    if (isLast || (t.plan.phase === 'main' && (t.plan.epochInPhase + 1) % c.evalEvery === 0)) {
      const result = await this.evaluate();
      if (result !== null) {
        record.eval = result;
        this.state.lastEval = result;
        this.#log(formatEval(epoch + 1, result));
      }
    }
    this.state.epochsDone = epoch + 1;
    // The record first: a kill between the two leaves a record past the checkpoint, which resume
    // trims; the other order would lose the record of an epoch the checkpoint includes.
    if (isMain) {
      appendMetrics(this.#metricsPath, record);
      this.checkpoint(join(this.#s.outDir, 'last.safetensors'));
    }
    await this.#hooks.endOfEpoch();
  }

  /**
   * Zero-shot evaluation of the model in eval mode. With data parallelism every rank embeds its share of
   * the test images (with rank 0's BatchNorm statistics, so each embeds as rank 0 would) and rank 0
   * reports; null elsewhere.
   */
  async evaluate(): Promise<EvalRecord | null> {
    const { model } = this.#s;
    model.eval();
    await this.#hooks.beforeForward(modelBuffers(model));
    return this.#s.evaluate(model);
  }

  /** Writes everything resume needs (atomic). */
  checkpoint(path: string): void {
    writeCheckpoint(this.#s, this.state, this.#optimizer as Optimizer, path);
  }

  /** The optimiser of a plan's phase: a new phase starts with a fresh one (spec). */
  #phaseOptimizer(plan: EpochPlan): Optimizer {
    if (this.#optimizerPhase !== plan.phase || this.#optimizer === null) {
      this.#optimizer?.dispose();
      this.#optimizer = null; // not disposed twice if the new one cannot be made
      this.#optimizer = makeOptimizer(this.#s.config, phaseGroups(this.#s, plan), plan.lr);
      this.#optimizerPhase = plan.phase;
    }
    return this.#optimizer;
  }

  /** Adds a batch's outcome to the epoch's totals and its step record; stops a run that diverged. */
  #count(outcome: BatchOutcome | null, t: EpochTotals, epoch: number, b: number): void {
    if (outcome === null) {
      // A non-finite loss: no update from it; several in a row mean training has diverged.
      t.skippedBatches++;
      this.#nonFiniteRun++;
      if (this.#nonFiniteRun >= MAX_NONFINITE_BATCHES) {
        throw new FailureError(
          `training diverged: the loss was not finite for ${this.#nonFiniteRun} batches in a row (epoch ${epoch + 1}, batch ${b + 1}); try a lower --lr`,
        );
      }
      return;
    }
    this.#nonFiniteRun = 0;
    if (outcome.empty) t.emptyBatches++;
    t.lossSum += outcome.loss;
    t.stepped++;
    if (this.#hooks.isMain && (this.state.step % LOSS_RECORD_EVERY === 0 || b === t.batches - 1)) {
      appendMetrics(this.#metricsPath, {
        type: 'step',
        epoch: epoch + 1,
        step: this.state.step,
        loss: outcome.loss,
        lr: t.plan.lr,
      });
    }
  }

  /** Draws the next global batch and loads this process's part of it. */
  #load(epoch: number, b: number): Promise<Loaded> {
    const { sampler, source, trainLabels } = this.#s;
    const global = sampler.nextBatch();
    const globalLabels = trainLabels ? global.map((i) => trainLabels[i] as number) : null;
    return source.load(this.#hooks.shard(global), epoch, b).then((batch) => ({ batch, globalLabels }));
  }

  #parameters(): Tensor[] {
    return [...this.#s.model.parameters(), ...this.#s.loss.parameters()];
  }
}

function modelBuffers(model: Embedder): Tensor[] {
  return model.namedBuffers().map(([, t]) => t);
}

/** Waits for a batch nobody will train on and frees it; its error, if any, is not the one to report. */
async function discard(pending: Promise<Loaded>): Promise<void> {
  try {
    const { batch } = await pending;
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
        optimizerParams: optimizerParamNames(opt, parameterNames(s)),
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
