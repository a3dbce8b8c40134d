// The training loop of the recipe (spec section 3): an optional warm-up phase that trains only the new
// parameters (class weights and the remap layer; the backbone is frozen but its BatchNorm layers stay in
// train mode, so their running statistics still update, as in the reference), then SGD over all
// parameters with a fresh optimiser and the step schedule. After every epoch: a checkpoint
// (OUT/last.safetensors, atomic) and a metrics.jsonl record; every evalEvery main-phase epochs and at
// the end: zero-shot evaluation on the test classes.
import { join } from 'node:path';
import type { BatchSampler } from '../data/samplers/types.js';
import type { BatchSource } from '../data/sources/types.js';
import { formatMetricsLine } from '../eval/format-metrics.js';
import type { MetricLoss } from '../loss/types.js';
import type { Embedder } from '../nn/embedder.js';
import { type Device, Generator, scope, type Tensor, tensor } from '../tensor/index.js';
import { createProgress } from '../util/progress.js';
import type { Rng } from '../util/rng.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type Checkpoint, saveCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { appendMetrics, type EpochRecord, type EvalRecord, type MetricsRecord } from './metrics.js';
import { AdamW } from './optim/adamw.js';
import type { Optimizer, ParamGroup } from './optim/optimizer.js';
import { SGD } from './optim/sgd.js';
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
  evaluate: (model: Embedder) => Promise<EvalRecord>;
  /** Where checkpoints and metrics.jsonl go. */
  outDir: string;
  silent?: boolean;
  log?: (line: string) => void;
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

/** Runs (or resumes) training to the configured number of epochs. */
export async function runTraining(s: TrainingSetup, resume?: ResumeFrom): Promise<TrainingState> {
  const c = s.config;
  const log = s.log ?? ((line: string) => console.error(line));
  const total = totalTrainingEpochs(c);
  const metricsPath = join(s.outDir, 'metrics.jsonl');
  const state: TrainingState = { epochsDone: 0, step: 0, lastEval: null };
  let optimizer: Optimizer | null = null;
  let optimizerPhase: EpochPlan['phase'] | null = null;

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
      c.maxBatchesPerEpoch > 0 ? Math.min(c.maxBatchesPerEpoch, s.sampler.batchesPerEpoch) : s.sampler.batchesPerEpoch;
    const progress = createProgress({
      label: `epoch ${epoch + 1}/${total} ${plan.phase}`,
      total: batches,
      silent: s.silent,
    });
    const started = Date.now();
    let lossSum = 0;
    let images = 0;
    const draw = (b: number) => s.source.load(s.sampler.nextBatch(), epoch, b);
    let next = draw(0);
    for (let b = 0; b < batches; b++) {
      const batch = await next;
      if (b + 1 < batches) next = draw(b + 1);
      const lossValue = scope(() => {
        const onDevice = c.device === 'cpu';
        const x = onDevice ? batch.images : batch.images.to(c.device as Device);
        const y = onDevice ? batch.labels : batch.labels.to(c.device as Device);
        const embeddings = s.model.forward(x);
        const loss = s.loss.forward(embeddings, y);
        loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss.item();
      });
      if (!Number.isFinite(lossValue)) {
        throw new Error(
          `training diverged at epoch ${epoch + 1}, batch ${b + 1}: loss is ${lossValue} (try a lower --lr)`,
        );
      }
      images += batch.images.size(0);
      batch.images.dispose();
      batch.labels.dispose();
      lossSum += lossValue;
      state.step += 1;
      if (state.step % LOSS_RECORD_EVERY === 0 || b === batches - 1) {
        appendMetrics(metricsPath, { type: 'step', epoch: epoch + 1, step: state.step, loss: lossValue, lr: plan.lr });
      }
      const seconds = (Date.now() - started) / 1000;
      progress.update(b + 1, {
        loss: lossSum / (b + 1),
        lr: plan.lr,
        'img/s': Math.round(images / Math.max(seconds, 1e-3)),
      });
    }
    // A sampler capped by maxBatchesPerEpoch is moved to the next epoch so that resume stays exact.
    while (s.sampler.epoch === epoch && s.sampler.batchInEpoch > 0) s.sampler.nextBatch();
    progress.stop();
    const seconds = (Date.now() - started) / 1000;
    const record: EpochRecord = {
      type: 'epoch',
      epoch: epoch + 1,
      phase: plan.phase === 'warmup' ? 'warmup' : 'train',
      loss: lossSum / batches,
      lr: plan.lr,
      imagesPerSecond: images / Math.max(seconds, 1e-9),
      seconds,
    };
    const isLast = epoch + 1 === total;
    if (isLast || (plan.phase === 'main' && (plan.epochInPhase + 1) % c.evalEvery === 0)) {
      s.model.eval();
      record.eval = await s.evaluate(s.model);
      state.lastEval = record.eval;
      log(formatEval(epoch + 1, record.eval));
    }
    state.epochsDone = epoch + 1;
    // The record first: a kill between the two leaves a record past the checkpoint, which resume
    // trims; the other order would lose the record of an epoch the checkpoint includes.
    appendMetrics(metricsPath, record);
    writeCheckpoint(s, state, opt, join(s.outDir, 'last.safetensors'));
  }
  optimizer?.dispose();
  return state;
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
