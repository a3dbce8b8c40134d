// The onnxruntime engine: an ONNX model from `normsoftmax export` (input `images` [N, C, H, W], output
// `embeddings` [N, dim]) run by onnxruntime-node on the CPU, intra-op threads as given.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { FailureError, InputError } from '../util/errors.js';
import { checkBatch, type EmbeddingEngine } from './engine.js';
import { INPUT_NAME, OUTPUT_NAME } from './onnx/index.js';
import { type OnnxModelInfo, onnxModelInfo, readOnnxMetadata } from './onnx-metadata.js';

export interface OnnxEngine extends EmbeddingEngine {
  readonly info: OnnxModelInfo;
}

/** An engine over the model's bytes; `name` (its file) is for messages. */
export async function onnxEngine(bytes: Uint8Array, name: string, o: { threads?: number } = {}): Promise<OnnxEngine> {
  const info = onnxModelInfo(readOnnxMetadata(bytes, name), name);
  const threads = o.threads && o.threads > 0 ? o.threads : availableParallelism();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    throw new InputError(`${name}: onnxruntime cannot load it (${(e as Error).message.split('\n')[0]})`);
  }
  if (!session.inputNames.includes(INPUT_NAME) || !session.outputNames.includes(OUTPUT_NAME)) {
    await session.release();
    throw new InputError(`${name}: expected input "${INPUT_NAME}" and output "${OUTPUT_NAME}"`);
  }
  const channels = info.preprocessing.channels;
  let released = false;
  return {
    name: 'onnxruntime',
    dim: info.dim,
    info,
    async embed(batch, shape) {
      checkBatch(batch, shape, channels);
      if (released) throw new FailureError('onnxruntime engine: used after dispose()');
      const input = new ort.Tensor('float32', batch, [...shape]);
      const out = await session.run({ [INPUT_NAME]: input });
      const y = out[OUTPUT_NAME];
      input.dispose();
      if (y?.dims.length !== 2 || y.dims[0] !== shape[0] || y.dims[1] !== info.dim) {
        throw new FailureError(`${name}: onnxruntime returned embeddings of shape [${y?.dims.join(', ')}]`);
      }
      const data = (y.data as Float32Array).slice();
      y.dispose();
      return data;
    },
    dispose() {
      if (released) return;
      released = true;
      void session.release();
    },
  };
}
