// Conv2d as torch.nn.Conv2d: weight [out, in/groups, kh, kw], optional bias [out].
import { F, type Tensor } from '../tensor/index.js';
import { defaultBias, defaultWeight, fans, type InitOptions, kaimingNormalRelu } from './init.js';
import { Module } from './module.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export interface Conv2dOptions extends InitOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  /** 'default': PyTorch's kaiming_uniform(a=sqrt(5)); 'kaimingFanOut': kaiming_normal_(fan_out, relu) as torchvision's ResNet. */
  weightInit?: 'default' | 'kaimingFanOut';
}

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, o: Conv2dOptions = {}) {
    super();
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize);
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`Conv2d: channels ${inChannels}->${outChannels} are not divisible by groups ${this.groups}`);
    }
    const shape = [outChannels, inChannels / this.groups, ...this.kernelSize];
    const weight = o.weightInit === 'kaimingFanOut' ? kaimingNormalRelu(shape, 'fanOut', o) : defaultWeight(shape, o);
    this.registerParameter('weight', weight);
    if (o.bias ?? true) this.registerParameter('bias', defaultBias(outChannels, fans(shape).fanIn, o));
  }

  get weight(): Tensor {
    return this.param('weight');
  }
  get bias(): Tensor | null {
    return this.hasParam('bias') ? this.param('bias') : null;
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}
