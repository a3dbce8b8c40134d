// DINOv2's LayerScale: x * gamma, one learnt factor per feature (key 'gamma'), initialised to a constant.
import { full, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';

export class LayerScale extends Module {
  constructor(dim: number, initValue = 1e-5) {
    super();
    this.registerParameter('gamma', full([dim], initValue, { dtype: 'float32' }));
  }

  forward(x: Tensor): Tensor {
    return x.mul(this.param('gamma'));
  }
}
