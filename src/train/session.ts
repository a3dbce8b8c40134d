// Builds a training run from a TrainConfig: data set, model, loss, sampler, batch source and
// evaluation, then runs (or resumes) it. Used by `normsoftmax train`, the demo and the tests.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { foldSplit } from '../data/class-folds.js';
import { loadDataset } from '../data/formats/index.js';
import { ClassBalancedSampler } from '../data/samplers/class-balanced.js';
import { ShuffleSampler } from '../data/samplers/shuffle.js';
import type { BatchSampler } from '../data/samplers/types.js';
import { createBatchSource } from '../data/sources/batch-source.js';
import type { DisposableSource } from '../data/sources/types.js';
import type { Dataset, Sample } from '../data/types.js';
import { resolveWeights } from '../data/weights/index.js';
import { evaluateModel, evaluateModelSharded } from '../embed/evaluate-model.js';
import { checkRecallKs } from '../eval/evaluate.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadWeights } from '../io/weights.js';
import { acquireWriterLock, type WriterLock } from '../io/writer-lock.js';
import { createLoss as createRegisteredLoss } from '../loss/index.js';
import { createEmbedder, type Embedder } from '../nn/embedder.js';
import { type Device, manualSeed, noGrad, setNumThreads } from '../tensor/index.js';
import { resolvePrecision } from '../tensor/precision.js';
import { InputError, UsageError } from '../util/errors.js';
import { type Checkpoint, disposeCheckpoint, loadCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { featureSource, trainFeatures } from './feature-cache.js';
import { type EvalRecord, readMetrics } from './metrics.js';
import type { DataParallel } from './parallel.js';
import { checkResumable } from './resume-check.js';
import { runTraining, type TrainableLoss, type TrainingState } from './trainer.js';

export interface SessionOptions {
  resume?: string;
  silent?: boolean;
  log?: (line: string) => void;
  /** Test split override (e.g. a subsample for the demo). */
  testSamples?: Sample[];
  dataset?: Dataset;
  /** This process is one rank of a data-parallel job (src/parallel); rank 0 writes, the others only train. */
  parallel?: DataParallel;
  /** Resume a checkpoint of another world size (the global batch is the same; not an exact continuation). */
  allowWorldSizeChange?: boolean;
  /** The writer lock of c.out, when the caller holds it already (else the writing rank takes it). */
  lock?: WriterLock;
}

export interface SessionResult {
  state: TrainingState;
  model: Embedder;
  outDir: string;
  lastEval: EvalRecord | null;
}

/** The loss the config names, from the registry (src/loss/index.ts). */
export function createLoss(c: TrainConfig, numClasses: number): TrainableLoss {
  return createRegisteredLoss(c.loss, { numClasses, dim: c.dim, options: c });
}

export function createSampler(c: TrainConfig, labels: number[]): BatchSampler {
  try {
    return c.sampler === 'balanced'
      ? new ClassBalancedSampler({ labels, batchSize: c.batchSize, imagesPerClass: c.imagesPerClass, seed: c.seed })
      : new ShuffleSampler({ labels, batchSize: c.batchSize, dropLast: true, seed: c.seed });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * Runs a session holding the writer lock of c.out (two trainings into one folder would mix checkpoints and
 * metrics): the rank that writes takes it, unless the caller passes it in.
 */
export async function runSession(c: TrainConfig, o: SessionOptions = {}): Promise<SessionResult> {
  if (o.lock && (!o.lock.held || o.lock.dir !== resolve(c.out)))
    throw new Error(`runSession: the lock given is not a held lock of ${c.out}`);
  const writes = !o.parallel || o.parallel.isMain;
  const lock = o.lock ?? (writes ? acquireWriterLock(c.out, 'train') : null);
  try {
    return await runSessionLocked(c, o);
  } finally {
    if (!o.lock) lock?.release();
  }
}

async function runSessionLocked(c: TrainConfig, o: SessionOptions): Promise<SessionResult> {
  const parallel = o.parallel;
  if (parallel && c.batchSize % parallel.worldSize !== 0) {
    throw new UsageError(
      `--batch-size ${c.batchSize} (the global batch) must be a multiple of the world size ${parallel.worldSize}`,
    );
  }
  if (parallel && c.device !== 'cpu') {
    throw new UsageError(
      `--device ${c.device}: data-parallel training runs on the CPU (c10d Gloo); NCCL is not bound yet`,
    );
  }
  if (parallel && !parallel.isMain) o = { ...o, silent: true };
  if (parallel && c.freezeBackbone) {
    throw new UsageError(
      '--freeze-backbone trains the head on cached features in one process: drop the data-parallel job',
    );
  }
  if (c.threads > 0) setNumThreads(c.threads);
  manualSeed(c.seed);
  const dataset = o.dataset ?? loadDataset(c.dataset, c.root);
  const all = dataset.splits.train;
  if (!all || all.length === 0) throw new InputError(`${c.dataset}: the data set has no training images`);
  // With --folds, fold c.fold's classes are held out of training and are the evaluation set.
  const folds = c.folds > 0 ? foldSplit(all, c.folds, c.fold) : undefined;
  const train = folds ? folds.train : all;
  const testSamples = folds ? folds.validation : o.testSamples;
  if (folds && !o.silent) {
    (o.log ?? console.error)(
      `fold ${c.fold} of ${c.folds}: training on ${folds.trainClasses.length} classes, ` +
        `validating on classes ${folds.validationClasses.join(', ')} (${folds.validation.length} images)`,
    );
  }
  const numClasses = new Set(train.map((s) => s.label)).size;
  checkEvaluationKs(c, dataset, testSamples);

  // A weights name (resnet50, ...) is fetched into the cache first (before any model is made); a file wins.
  const pretrained = c.pretrained
    ? (
        await resolveWeights(c.pretrained, {
          flag: '--pretrained',
          note: "(the paper's ImageNet weights, the default of --preset; --pretrained none trains from scratch)",
          log: o.log,
          quiet: o.silent,
        })
      ).path
    : null;
  const model = createEmbedder({ arch: c.arch, dim: c.dim, layerNorm: c.layerNorm });
  if (pretrained) {
    const weights = loadWeights(pretrained);
    try {
      model.loadBackboneWeights(weights);
    } finally {
      for (const t of Object.values(weights)) t.dispose();
    }
  }
  if (c.device !== 'cpu') model.to(c.device as Device);
  const loss = createLoss(c, numClasses);
  const sampler = createSampler(
    c,
    train.map((s) => s.label),
  );

  let checkpoint: Checkpoint | undefined;
  if (o.resume) {
    checkpoint = loadCheckpoint(o.resume);
    const accepted = checkResumable(checkpoint.meta.config, c, o.resume);
    if (!o.silent) for (const line of accepted) (o.log ?? ((l: string) => console.error(l)))(line);
    const savedWorld = checkpoint.meta.worldSize ?? 1;
    const world = parallel?.worldSize ?? 1;
    if (savedWorld !== world && !o.allowWorldSizeChange) {
      throw new InputError(
        `--resume ${o.resume}: the checkpoint was written by ${savedWorld} process(es), this run has ${world}; --allow-world-size-change continues anyway (same global batch, not an exact continuation)`,
      );
    }
    model.loadStateDict(checkpoint.model);
    for (const [name, t] of Object.entries(loss.namedParameters())) {
      const saved = checkpoint.loss[name];
      if (!saved) throw new InputError(`--resume ${o.resume}: checkpoint lacks loss parameter "${name}"`);
      noGrad(() => t.copy_(saved));
    }
  }

  mkdirSync(c.out, { recursive: true });
  if (!parallel || parallel.isMain) {
    writeFileAtomic(join(c.out, 'config.json'), `${JSON.stringify(c, null, 2)}\n`);
    if (checkpoint) trimMetrics(join(c.out, 'metrics.jsonl'), checkpoint.meta.epochsDone);
  }

  const { precision, line: precisionLine } = resolvePrecision(c.precision, c.device);
  if (c.precision !== 'fp32' && !o.silent) (o.log ?? ((line: string) => console.error(line)))(precisionLine);
  // Under bf16 autocast, oneDNN's convolutions train 1.3-1.45x faster on NHWC weights and activations
  // (ResNet-50@224 here); in fp32 the gain is within noise, so fp32 keeps row-major memory.
  if (precision === 'bf16') model.toMemoryFormat('channels_last');
  let source: DisposableSource;
  if (c.freezeBackbone) {
    // Head-only training: the frozen backbone's features of the training split, embedded once.
    const f = await trainFeatures(model, dataset, train, c, pretrained);
    if (!o.silent) {
      (o.log ?? ((line: string) => console.error(line)))(
        `--freeze-backbone: ${train.length} training images ${f.cached ? 'read from' : 'embedded once into'} ${f.path} (the frozen backbone's features, eval transform: no augmentation)`,
      );
    }
    source = featureSource(
      f,
      train.map((s) => s.label),
    );
  } else source = createBatchSource(dataset, train, model.input, c, 'train');
  // On a validation fold, also MAP@R and R-Precision: the Reality Check picks hyper-parameters by them.
  const evalOptions = { silent: o.silent, testSamples, nmi: c.nmi, mapR: folds !== undefined, precision };
  // A data-parallel job shares the embedding of the test images; rank 0 gets the metrics.
  const evaluate = parallel
    ? (m: Embedder) =>
        evaluateModelSharded(m, dataset, c, evalOptions, {
          rank: parallel.rank,
          worldSize: parallel.worldSize,
          gather: (local) => parallel.gatherRows(local),
        })
    : (m: Embedder) => evaluateModel(m, dataset, c, evalOptions);
  // Frees the checkpoint and stops the decode workers; after a failure, quietly (the error that stopped
  // training is the one to report).
  const release = async (quiet: boolean) => {
    if (checkpoint) disposeCheckpoint(checkpoint);
    try {
      await source.dispose?.();
    } catch (e) {
      if (!quiet) throw e;
    }
  };
  let state: TrainingState;
  try {
    state = await runTraining(
      {
        config: c,
        model,
        loss,
        sampler,
        source,
        numClasses,
        evaluate,
        outDir: c.out,
        silent: o.silent,
        log: o.log,
        precision,
        parallel,
        trainLabels: train.map((s) => s.label),
      },
      checkpoint ? { checkpoint } : undefined,
    );
  } catch (e) {
    await release(true);
    throw e;
  }
  await release(false);
  return { state, model, outDir: c.out, lastEval: state.lastEval };
}

/** Refuses a K list the evaluation set cannot answer now, rather than after training. */
function checkEvaluationKs(c: TrainConfig, dataset: Dataset, testSamples: Sample[] | undefined): void {
  const { test, query, gallery } = dataset.splits;
  const self = testSamples ?? test;
  if (self) checkRecallKs(c.k, self.length - 1, true);
  else if (query && gallery) checkRecallKs(c.k, gallery.length, false);
}

/** On resume, drops metrics written after the checkpoint's epoch (a run killed mid-epoch). */
function trimMetrics(path: string, epochsDone: number): void {
  if (!existsSync(path)) return;
  const kept = readMetrics(path).filter((r) => r.epoch <= epochsDone);
  const text = kept.map((r) => JSON.stringify(r)).join('\n');
  writeFileAtomic(path, kept.length > 0 ? `${text}\n` : '');
}
