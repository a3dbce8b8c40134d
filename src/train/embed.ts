// Embedding whole splits with a trained (or bare pretrained) model, in eval mode and without autograd.
import { UserError } from '../cli/errors.js';
import type { Dataset, Sample } from '../data/types.js';
import { loadWeights } from '../io/weights.js';
import { type Arch, createEmbedder, type Embedder, isArch } from '../nn/embedder.js';
import { cat, type Device, keep, noGrad, scope, type Tensor } from '../tensor/index.js';
import { createProgress } from '../util/progress.js';
import { disposeCheckpoint, isCheckpointFile, loadCheckpoint } from './checkpoint.js';
import { DEFAULTS, type TrainConfig } from './config.js';
import { createBatchSource, type PipelineOptions } from './sources.js';

export type { PipelineOptions };

export const EVAL_PIPELINE: PipelineOptions = {
  seed: 0,
  resize: DEFAULTS.resize,
  crop: DEFAULTS.crop,
  workers: DEFAULTS.workers,
  skipBadImages: false,
};

/** The eval pipeline a model was trained with (its resize and crop), or the paper's default. */
export function pipelineOf(config: TrainConfig | null): PipelineOptions {
  return config ? { ...EVAL_PIPELINE, resize: config.resize, crop: config.crop } : EVAL_PIPELINE;
}

/** Unit-norm embeddings [N, dim] of the samples, in order. */
export async function embedSamples(
  model: Embedder,
  dataset: Dataset,
  samples: readonly Sample[],
  o: { batchSize?: number; pipeline?: PipelineOptions; silent?: boolean; label?: string } = {},
): Promise<Tensor> {
  const batchSize = o.batchSize ?? 128;
  const source = createBatchSource(dataset, samples, model.input, o.pipeline ?? EVAL_PIPELINE, 'eval');
  const progress = createProgress({ label: o.label ?? 'embedding', total: samples.length, silent: o.silent });
  const wasTraining = model.training;
  model.eval();
  const parts: Tensor[] = [];
  const device = model.parameters()[0]?.device ?? 'cpu';
  try {
    let done = 0;
    for await (const batch of source.ordered(batchSize)) {
      parts.push(keep(scope(() => noGrad(() => model.forward(onDevice(batch.images, device)).to('cpu')))));
      done += batch.images.size(0);
      batch.images.dispose();
      batch.labels.dispose();
      progress.update(done);
    }
    progress.stop();
    return scope(() => cat(parts, 0));
  } finally {
    for (const p of parts) p.dispose();
    await source.dispose?.();
    model.train(wasTraining);
  }
}

function onDevice(x: Tensor, device: Device): Tensor {
  return device === 'cpu' ? x : x.to(device);
}

export interface LoadedModel {
  model: Embedder;
  /** Where it came from, for messages. */
  description: string;
  config: TrainConfig | null;
}

/**
 * A model from a normsoftmax checkpoint (arch and dim are read from it), or from a bare
 * torchvision/safetensors weights file (then arch and dim are required).
 */
export function loadModel(path: string, o: { arch?: string; dim?: number } = {}): LoadedModel {
  if (isCheckpointFile(path)) {
    const ckpt = loadCheckpoint(path);
    try {
      const c = ckpt.meta.config;
      const model = createEmbedder({ arch: c.arch, dim: c.dim });
      model.loadStateDict(ckpt.model);
      model.eval();
      return { model, description: `${path} (${c.arch}, dim ${c.dim}, epoch ${ckpt.meta.epochsDone})`, config: c };
    } finally {
      disposeCheckpoint(ckpt);
    }
  }
  if (!o.arch) throw new UserError(`--checkpoint ${path} is a bare weights file: pass --arch (and --dim)`, 2);
  if (!isArch(o.arch)) throw new UserError(`--arch: unknown architecture "${o.arch}"`, 2);
  const model = createEmbedder({ arch: o.arch as Arch, dim: o.dim });
  const weights = loadWeights(path);
  try {
    // An embedder's own state dict (backbone.* and remap.*), e.g. exported from a checkpoint, loads whole.
    const keys = Object.keys(weights);
    const isEmbedderState = keys.length > 0 && keys.every((k) => k.startsWith('backbone.') || k.startsWith('remap.'));
    if (isEmbedderState) model.loadStateDict(weights);
    else model.loadBackboneWeights(weights);
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
  model.eval();
  return { model, description: `${path} (bare ${o.arch} weights, dim ${model.dim})`, config: null };
}

export interface EmbeddedSet {
  embeddings: Tensor;
  labels: Int32Array;
  paths: string[];
}

export interface EmbedForEvalOptions {
  checkpoint: string;
  arch?: string;
  dim?: number;
  dataset: Dataset;
  silent?: boolean;
}

/**
 * Embeds what a data set is evaluated on: its test split (query = gallery) or, for In-Shop-like data,
 * its query and gallery splits.
 */
export async function embedForEval(o: EmbedForEvalOptions): Promise<{ query: EmbeddedSet; gallery?: EmbeddedSet }> {
  const { model, config } = loadModel(o.checkpoint, { arch: o.arch, dim: o.dim });
  const pipeline = pipelineOf(config);
  const embed = async (samples: Sample[], label: string): Promise<EmbeddedSet> => ({
    embeddings: await embedSamples(model, o.dataset, samples, { silent: o.silent, label, pipeline }),
    labels: Int32Array.from(samples, (s) => s.label),
    paths: samples.map((s) => s.path),
  });
  try {
    const { test, query, gallery } = o.dataset.splits;
    if (test) return { query: await embed(test, 'embedding test') };
    if (query && gallery)
      return { query: await embed(query, 'embedding query'), gallery: await embed(gallery, 'embedding gallery') };
    throw new UserError(`${o.dataset.name}: no test split and no query/gallery splits to evaluate`);
  } finally {
    model.dispose();
  }
}
