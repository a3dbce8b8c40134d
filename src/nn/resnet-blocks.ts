// torchvision's residual blocks (v1.5: the stride sits on the 3x3 convolution).
import { scope, type Tensor } from '../tensor/index.js';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d } from './conv.js';
import type { InitOptions } from './init.js';
import { Module } from './module.js';
import { Sequential } from './sequential.js';

export interface BlockOptions extends InitOptions {
  stride?: number;
  /** Projection of the identity path (conv1x1 + BatchNorm) when shape changes. */
  downsample?: Sequential | null;
}

export function conv3x3(inC: number, outC: number, stride: number, o: InitOptions): Conv2d {
  return new Conv2d(inC, outC, 3, { ...o, stride, padding: 1, bias: false, weightInit: 'kaimingFanOut' });
}

export function conv1x1(inC: number, outC: number, stride: number, o: InitOptions): Conv2d {
  return new Conv2d(inC, outC, 1, { ...o, stride, bias: false, weightInit: 'kaimingFanOut' });
}

/** The identity path's projection, stored as `downsample.0` (conv) and `downsample.1` (bn). */
export function projection(inC: number, outC: number, stride: number, o: InitOptions): Sequential {
  return new Sequential(conv1x1(inC, outC, stride, o), new BatchNorm2d(outC));
}

export interface ResidualBlock extends Module {
  readonly outChannels: number;
}

/** conv3x3-bn-relu-conv3x3-bn, plus identity, relu. Used by ResNet-18/34. */
export class BasicBlock extends Module implements ResidualBlock {
  static readonly expansion = 1;
  readonly outChannels: number;
  readonly #conv1: Conv2d;
  readonly #bn1: BatchNorm2d;
  readonly #conv2: Conv2d;
  readonly #bn2: BatchNorm2d;
  readonly #downsample: Sequential | null;

  constructor(inplanes: number, planes: number, o: BlockOptions = {}) {
    super();
    this.outChannels = planes;
    this.#conv1 = this.registerModule('conv1', conv3x3(inplanes, planes, o.stride ?? 1, o));
    this.#bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.#conv2 = this.registerModule('conv2', conv3x3(planes, planes, 1, o));
    this.#bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.#downsample = o.downsample ? this.registerModule('downsample', o.downsample) : null;
  }

  forward(x: Tensor): Tensor {
    return scope(() => {
      const h = this.#bn1.forward(this.#conv1.forward(x)).relu_();
      const out = this.#bn2.forward(this.#conv2.forward(h));
      const identity = this.#downsample ? this.#downsample.forward(x) : x;
      return out.add_(identity).relu_();
    });
  }
}

/** conv1x1-bn-relu-conv3x3(stride)-bn-relu-conv1x1-bn, plus identity, relu. Used by ResNet-50/101. */
export class Bottleneck extends Module implements ResidualBlock {
  static readonly expansion = 4;
  readonly outChannels: number;
  readonly #conv1: Conv2d;
  readonly #bn1: BatchNorm2d;
  readonly #conv2: Conv2d;
  readonly #bn2: BatchNorm2d;
  readonly #conv3: Conv2d;
  readonly #bn3: BatchNorm2d;
  readonly #downsample: Sequential | null;

  constructor(inplanes: number, planes: number, o: BlockOptions = {}) {
    super();
    const width = planes;
    this.outChannels = planes * Bottleneck.expansion;
    this.#conv1 = this.registerModule('conv1', conv1x1(inplanes, width, 1, o));
    this.#bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.#conv2 = this.registerModule('conv2', conv3x3(width, width, o.stride ?? 1, o));
    this.#bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.#conv3 = this.registerModule('conv3', conv1x1(width, this.outChannels, 1, o));
    this.#bn3 = this.registerModule('bn3', new BatchNorm2d(this.outChannels));
    this.#downsample = o.downsample ? this.registerModule('downsample', o.downsample) : null;
  }

  forward(x: Tensor): Tensor {
    return scope(() => {
      const h1 = this.#bn1.forward(this.#conv1.forward(x)).relu_();
      const h2 = this.#bn2.forward(this.#conv2.forward(h1)).relu_();
      const out = this.#bn3.forward(this.#conv3.forward(h2));
      const identity = this.#downsample ? this.#downsample.forward(x) : x;
      return out.add_(identity).relu_();
    });
  }
}
