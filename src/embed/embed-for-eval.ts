// Embeds what a data set is evaluated on with a model from a file: its test split (query = gallery) or,
// for In-Shop-like data, its query and gallery splits. The forward is libtorch's (the model as trained,
// as evaluation during training embeds it), through the one embedding loop (embed-samples.ts).
import type { Dataset, Sample } from '../data/types.js';
import { type Tensor, tensor } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { InputError } from '../util/errors.js';
import { embedSamples, pipelineOf } from './embed-samples.js';
import { libtorchEngine } from './libtorch-engine.js';
import { loadModel } from './load-model.js';

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
  /** bf16: the forwards under autocast (float32 embeddings all the same). Default fp32. */
  precision?: Precision;
}

export async function embedForEval(o: EmbedForEvalOptions): Promise<{ query: EmbeddedSet; gallery?: EmbeddedSet }> {
  const { test, query, gallery } = o.dataset.splits;
  if (!test && !(query && gallery)) {
    throw new InputError(`${o.dataset.name}: no test split and no query/gallery splits to evaluate`);
  }
  const { model, config } = loadModel(o.checkpoint, { arch: o.arch, dim: o.dim });
  const input = model.input;
  const engine = libtorchEngine(model, { precision: o.precision });
  const pipeline = pipelineOf(config, input);
  const embed = async (samples: Sample[], label: string): Promise<EmbeddedSet> => ({
    embeddings: tensor(await embedSamples(engine, input, o.dataset, samples, { silent: o.silent, label, pipeline }), {
      shape: [samples.length, engine.dim],
    }),
    labels: Int32Array.from(samples, (s) => s.label),
    paths: samples.map((s) => s.path),
  });
  try {
    if (test) return { query: await embed(test, 'embedding test') };
    const q = await embed(query as Sample[], 'embedding query');
    try {
      return { query: q, gallery: await embed(gallery as Sample[], 'embedding gallery') };
    } catch (e) {
      q.embeddings.dispose();
      throw e;
    }
  } finally {
    engine.dispose();
  }
}
