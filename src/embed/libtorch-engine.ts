// The libtorch engine: our embedder's forward (eval mode, no autograd, at a precision) on a batch.
import type { Embedder } from '../nn/embedder.js';
import { type Device, noGrad, scope, tensor } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { embedBatch } from './embed-batch.js';
import { checkBatch, type EmbeddingEngine } from './engine.js';

/** Takes ownership of the model (dispose() frees it). */
export function libtorchEngine(model: Embedder, o: { precision?: Precision } = {}): EmbeddingEngine {
  model.eval();
  const device: Device = model.parameters()[0]?.device ?? 'cpu';
  return {
    name: 'libtorch',
    dim: model.dim,
    async embed(batch, shape) {
      checkBatch(batch, shape, model.input.channels);
      return scope(() =>
        noGrad(() => {
          const x = tensor(batch, { shape: [...shape] });
          const images = device === 'cpu' ? x : x.to(device);
          return embedBatch(model, images, o.precision).to('cpu').toTypedArray() as Float32Array;
        }),
      );
    },
    dispose: () => model.dispose(),
  };
}
