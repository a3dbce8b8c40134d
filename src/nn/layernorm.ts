// LayerNorm as torch.nn.LayerNorm over the trailing dimensions, with or without a learnt scale and shift.
import { F, ones, type Tensor, zeros } from '../tensor/index.js';
import { Module } from './module.js';

export interface LayerNormOptions {
  eps?: number;
  /** Learnt weight (init 1) and bias (init 0); default true as in PyTorch. */
  elementwiseAffine?: boolean;
}

export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | readonly number[], o: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = o.eps ?? 1e-5;
    this.elementwiseAffine = o.elementwiseAffine ?? true;
    if (this.elementwiseAffine) {
      this.registerParameter('weight', ones(this.normalizedShape));
      this.registerParameter('bias', zeros(this.normalizedShape));
    }
  }

  forward(x: Tensor): Tensor {
    const affine = this.elementwiseAffine;
    return F.layerNorm(x, this.normalizedShape, {
      weight: affine ? this.param('weight') : null,
      bias: affine ? this.param('bias') : null,
      eps: this.eps,
    });
  }
}
