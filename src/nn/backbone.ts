// The contract every backbone (ResNet, BN-Inception, the small CNN) offers the embedder.
import type { Tensor } from '../tensor/index.js';
import type { InputSpec } from './input-spec.js';
import { Module } from './module.js';

export abstract class Backbone extends Module {
  /** Length of the pooled feature vector. */
  abstract readonly width: number;
  /** How input pixels must be prepared. */
  abstract readonly input: InputSpec;
  /** State-dict prefix of the classification head that backbone weights may carry ('fc', 'last_linear'), if any. */
  abstract readonly headPrefix: string | null;

  /** The last feature map [N, width, h, w], before pooling. */
  abstract featureMap(x: Tensor): Tensor;

  /** Globally average-pooled features [N, width] (no classification head). */
  abstract features(x: Tensor): Tensor;

  /**
   * A pretrained checkpoint's tensors in this backbone's layout (default: unchanged). Returned tensors
   * may be new views; the caller disposes them.
   */
  adaptWeights(stateDict: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    return { ...stateDict };
  }

  protected checkInput(x: Tensor): void {
    const c = this.input.channels;
    if (x.rank !== 4 || x.shape[1] !== c) {
      throw new Error(`${this.constructor.name}: expected images [N, ${c}, H, W], got [${x.shape.join(', ')}]`);
    }
  }
}
