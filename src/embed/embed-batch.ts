// One batch through the embedder at a precision. bf16 runs the forward under autocast and hands back
// float32 unit vectors: the bf16 output is cast to float32 and L2-normalised again in float32, so that
// every caller (files, indexes, evaluation) gets what an fp32 forward returns, to bf16's accuracy.
import type { Embedder } from '../nn/embedder.js';
import { F, scope, type Tensor } from '../tensor/index.js';
import { atPrecision, type Precision } from '../tensor/precision.js';

/** Unit-length float32 embeddings [N, dim] of images on the model's device. */
export function embedBatch(model: Embedder, images: Tensor, precision: Precision = 'fp32'): Tensor {
  return scope(() => {
    const out = atPrecision(precision, images.device, () => model.forward(images));
    return out.dtype === 'float32' ? out : F.normalize(out.float(), { p: 2, dim: 1, eps: 1e-12 });
  });
}
