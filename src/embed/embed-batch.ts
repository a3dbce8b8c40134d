// One batch through the embedder at a precision. bf16 runs the forward under autocast and hands back
// float32 unit vectors: the bf16 output is cast to float32 and L2-normalised again in float32, so that
// every caller (files, indexes, evaluation) gets what an fp32 forward returns, to bf16's accuracy.
// A model whose weights are channels_last (Module.toMemoryFormat) gets its input in the same memory.
import type { Embedder } from '../nn/embedder.js';
import { F, scope, type Tensor } from '../tensor/index.js';
import { atPrecision, type Precision } from '../tensor/precision.js';

/** Unit-length float32 embeddings [N, dim] of images on the model's device. */
export function embedBatch(model: Embedder, images: Tensor, precision: Precision = 'fp32'): Tensor {
  return scope(() => {
    const x = images.rank === 4 && model.memoryFormat === 'channels_last' ? images.contiguous('channels_last') : images;
    const out = atPrecision(precision, images.device, () => model.forward(x));
    return out.dtype === 'float32' ? out : F.normalize(out.float(), { p: 2, dim: 1, eps: 1e-12 });
  });
}
