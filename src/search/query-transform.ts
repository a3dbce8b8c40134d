// The eval transform for query images of an index's embedder: the pipeline's transform for the model's
// input spec with the index's resize and centre crop (0 = none), the one `index build` embedded the items
// with (small-input models resize every image to the input size, so that any upload fits).
import { pipelineTransform, type TransformConfig } from '../data/image/transform-config.js';
import type { InputSpec } from '../nn/input-spec.js';

export function queryTransform(input: InputSpec, resize: number, crop: number, jpegDraft = false): TransformConfig {
  return { ...pipelineTransform(input, resize, crop, jpegDraft), flipProbability: 0 };
}
