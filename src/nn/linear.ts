// Linear as torch.nn.Linear: y = x W^T + b, weight [out, in].
import { F, type Tensor } from '../tensor/index.js';
import { defaultBias, defaultWeight, type InitOptions } from './init.js';
import { Module } from './module.js';

export interface LinearOptions extends InitOptions {
  bias?: boolean;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, o: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.registerParameter('weight', defaultWeight([outFeatures, inFeatures], o));
    if (o.bias ?? true) this.registerParameter('bias', defaultBias(outFeatures, inFeatures, o));
  }

  get weight(): Tensor {
    return this.param('weight');
  }
  get bias(): Tensor | null {
    return this.hasParam('bias') ? this.param('bias') : null;
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}
