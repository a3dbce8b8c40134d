// Parameter-free layers: ReLU and Identity.
import { F, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';

export class ReLU extends Module {
  /** In place overwrites (and returns) the input: only for tensors the caller owns and no longer needs. */
  constructor(readonly inplace = false) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.inplace ? x.relu_() : F.relu(x);
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
