// The work of `normsoftmax embed` (as runSession is training's): a model from a checkpoint, weights file
// or name (downloaded when not cached) or an .onnx model, on the chosen engine; the samples through the
// one embedding loop, with progress; X.npy and X.json written atomically. In a data-parallel job each rank
// embeds its slice and rank 0 gathers, speaks and writes.
import type { Dataset, Sample } from '../data/types.js';
import { resolveWeights } from '../data/weights/index.js';
import type { Precision } from '../tensor/precision.js';
import { embedSamples, pipelineOf } from './embed-samples.js';
import { type EmbeddingShard, embedSharded } from './embed-shard.js';
import { writeEmbeddingsFile } from './embeddings-file.js';
import type { EngineName } from './engine.js';
import { openEngine } from './open-engine.js';

export interface EmbedRunOptions {
  /** A normsoftmax checkpoint, torchvision .pth / .safetensors weights or their name, or an .onnx model. */
  checkpoint: string;
  /** Architecture (and embedding size) of bare weights. */
  arch?: string;
  dim?: number;
  /** What to embed, in order (imageFolder(dir) gives a folder's images). */
  dataset: Dataset;
  samples: readonly Sample[];
  /** X.npy: the N x D float32 embeddings; X.json next to it gets the image paths and labels. */
  out: string;
  /** Images per batch (default 64). */
  batchSize?: number;
  /** Decode JPEGs at reduced size where that still covers the resize (Pillow's draft). */
  jpegDraft?: boolean;
  /** Default: chooseEngine's (libtorch for bf16, onnxruntime for an .onnx model, else DEFAULT_ENGINE). */
  engine?: EngineName;
  precision?: Precision;
  /** onnxruntime's intra-op threads (default: all cores). */
  threads?: number;
  /** This process is a rank of a data-parallel job: it embeds its slice; rank 0 writes. */
  shard?: (EmbeddingShard & { barrier(): Promise<void> }) | null;
  /** What a command prints to stderr (the ONNX model, the model, jpeg draft); rank 0 only. Default: nowhere. */
  log?: (line: string) => void;
  /** No progress line. */
  silent?: boolean;
}

export interface EmbedRunResult {
  rows: number;
  dim: number;
  out: string;
  sidecar: string;
}

/** What was written, on rank 0 (or outside a job); null on the other ranks. */
export async function runEmbed(o: EmbedRunOptions): Promise<EmbedRunResult | null> {
  const shard = o.shard ?? null;
  const main = shard === null || shard.rank === 0;
  const log = main && o.log ? o.log : () => {};
  // In a job, rank 0 downloads the weights and fills the ONNX cache before the others read them.
  if (shard && !main) await shard.barrier();
  await resolveWeights(o.checkpoint); // downloads a weights name that is not cached yet
  const opened = await openEngine(o.checkpoint, {
    engine: o.engine,
    arch: o.arch,
    dim: o.dim,
    precision: o.precision,
    threads: o.threads,
    log,
  });
  if (shard && main) await shard.barrier();
  const { engine, description, config, input } = opened;
  log(`model: ${description}`);
  const pipeline = { ...pipelineOf(config, input), jpegDraft: o.jpegDraft === true };
  if (pipeline.jpegDraft)
    log("jpeg draft: JPEGs decoded at reduced size where that still covers the resize (Pillow's draft)");
  const embed = async (mine: readonly Sample[]) => {
    try {
      return await embedSamples(engine, input, o.dataset, mine, {
        batchSize: o.batchSize ?? 64,
        label: 'embedding',
        pipeline,
        silent: o.silent === true || !main,
      });
    } finally {
      engine.dispose(); // before a gather: the model is not needed there
    }
  };
  const dim = engine.dim;
  let vectors: Float32Array | null;
  try {
    if (shard) vectors = await embedSharded(shard, o.samples, dim, embed);
    else vectors = o.samples.length === 0 ? new Float32Array(0) : await embed(o.samples);
  } finally {
    engine.dispose();
  }
  if (vectors === null) return null;
  const { sidecar } = writeEmbeddingsFile(o.out, vectors, dim, o.samples);
  return { rows: o.samples.length, dim, out: o.out, sidecar };
}
