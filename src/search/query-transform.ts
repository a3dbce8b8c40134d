// The eval transform for query images of an index's embedder: the model's input spec with the index's
// resize and centre crop (0 = none), as the build's pipeline applied them. Small-input models (MNIST-like,
// indexed without a resize) get their queries resized to the input size, so that any upload fits.
import type { TransformConfig } from '../data/image/transform-config.js';
import { transformForInput } from '../data/image/transform-config.js';
import type { InputSpec } from '../nn/input-spec.js';

export function queryTransform(input: InputSpec, resize: number, crop: number): TransformConfig {
  const base = transformForInput(input);
  if (base.resize === null) return { ...base, resize: { width: input.size, height: input.size }, flipProbability: 0 };
  return {
    ...base,
    resize: resize > 0 ? { width: resize, height: resize } : null,
    crop: crop > 0 ? { width: crop, height: crop } : null,
    flipProbability: 0,
  };
}
