// A small CNN for 28x28 grayscale images, fast enough to train on two CPU cores (the demo's backbone):
// three conv3x3-BN-ReLU blocks (32, 64, 128 channels), 2x2 max pooling after the first two
// (28 -> 14 -> 7), global average pooling -> 128 features. Keys conv1..3, bn1..3.
import { F, scope, type Tensor } from '../tensor/index.js';
import { Backbone } from './backbone.js';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d } from './conv.js';
import type { InitOptions } from './init.js';
import { GRAY28_INPUT, type InputSpec } from './input-spec.js';

export interface SmallCnnOptions extends InitOptions {
  /** Channels of the three blocks (default [32, 64, 128]); the last is the feature width. */
  channels?: readonly [number, number, number];
}

export class SmallCnn extends Backbone {
  readonly width: number;
  readonly input: InputSpec = GRAY28_INPUT;
  readonly headPrefix = null;
  readonly #blocks: { conv: Conv2d; bn: BatchNorm2d }[] = [];

  constructor(o: SmallCnnOptions = {}) {
    super();
    const channels = o.channels ?? [32, 64, 128];
    let inC: number = GRAY28_INPUT.channels;
    channels.forEach((outC, i) => {
      const conv = this.registerModule(
        `conv${i + 1}`,
        new Conv2d(inC, outC, 3, { generator: o.generator, padding: 1, bias: false, weightInit: 'kaimingFanOut' }),
      );
      const bn = this.registerModule(`bn${i + 1}`, new BatchNorm2d(outC));
      this.#blocks.push({ conv, bn });
      inC = outC;
    });
    this.width = inC;
  }

  featureMap(x: Tensor): Tensor {
    this.checkInput(x);
    return scope(() => {
      let h = x;
      this.#blocks.forEach(({ conv, bn }, i) => {
        h = bn.forward(conv.forward(h)).relu_();
        if (i < this.#blocks.length - 1) h = F.maxPool2d(h, 2);
      });
      return h;
    });
  }

  features(x: Tensor): Tensor {
    return scope(() => F.adaptiveAvgPool2d(this.featureMap(x), 1).flatten(1));
  }

  forward(x: Tensor): Tensor {
    return this.features(x);
  }
}
