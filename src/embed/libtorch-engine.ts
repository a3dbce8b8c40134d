// The libtorch engine: our embedder's forward (eval mode, no autograd, at a precision) on a batch.
import type { Embedder } from '../nn/embedder.js';
import { type Device, noGrad, scope, tensor } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { embedBatch } from './embed-batch.js';
import { checkBatch, type EmbeddingEngine } from './engine.js';

/**
 * Takes ownership of the model (dispose() frees it). Its weights go to channels_last memory unless
 * memoryFormat says otherwise: oneDNN's convolutions then skip their reorders (1.2x fp32, 1.7x bf16 on
 * ResNet-50 here).
 */
export function libtorchEngine(
  model: Embedder,
  o: { precision?: Precision; memoryFormat?: 'contiguous' | 'channels_last' } = {},
): EmbeddingEngine {
  model.eval();
  model.toMemoryFormat(o.memoryFormat ?? 'channels_last');
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
