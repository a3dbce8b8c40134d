// The transformer block's MLP: Linear(D -> hidden), GELU (exact, erf) or CLIP's QuickGELU
// (x * sigmoid(1.702 x)), Linear(hidden -> D), with each publisher's names for the two layers:
// torchvision's MLP ('0', '3'), timm's Mlp ('fc1', 'fc2') and CLIP's ('c_fc', 'c_proj').
import { F, noGrad, scope, type Tensor } from '../tensor/index.js';
import { vitLinear } from './attention.js';
import { type InitOptions, normalTensor, xavierUniform } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

export type FeedForwardNames = readonly [string, string];
export type Activation = 'gelu' | 'quickgelu';

export interface FeedForwardOptions extends InitOptions {
  /** The state-dict names of the two layers. */
  names: FeedForwardNames;
  activation: Activation;
  /**
   * 'timm': trunc_normal_(0.02) weights, zero biases; 'xavier': xavier_uniform_ weights, N(0, 1e-12) biases
   * (torchvision's MLPBlock); 'default': PyTorch's Linear init.
   */
  init?: 'timm' | 'xavier' | 'default';
}

export function activate(x: Tensor, activation: Activation): Tensor {
  return activation === 'gelu' ? F.gelu(x) : scope(() => x.mul(x.mul(1.702).sigmoid()));
}

function xavierLinear(inFeatures: number, outFeatures: number, o: InitOptions): Linear {
  const layer = new Linear(inFeatures, outFeatures, { ...o, uninitialised: true });
  if (!o.uninitialised) {
    const w = xavierUniform([outFeatures, inFeatures], o);
    const b = normalTensor([outFeatures], 1e-6, o);
    noGrad(() => {
      layer.weight.copy_(w);
      layer.bias?.copy_(b);
    });
    w.dispose();
    b.dispose();
  }
  return layer;
}

export class FeedForward extends Module {
  readonly activation: Activation;
  readonly #fc1: Linear;
  readonly #fc2: Linear;

  constructor(dim: number, hidden: number, o: FeedForwardOptions) {
    super();
    this.activation = o.activation;
    const make = (i: number, out: number) =>
      o.init === 'timm' ? vitLinear(i, out, o) : o.init === 'xavier' ? xavierLinear(i, out, o) : new Linear(i, out, o);
    this.#fc1 = this.registerModule(o.names[0], make(dim, hidden));
    this.#fc2 = this.registerModule(o.names[1], make(hidden, dim));
  }

  forward(x: Tensor): Tensor {
    return scope(() => this.#fc2.forward(activate(this.#fc1.forward(x), this.activation)));
  }
}
