// ResNet-18/34/50/101 in torchvision's exact layout (state-dict keys conv1, bn1, layer1.0.conv1, ...,
// layerX.0.downsample.0/1, fc), initialised as torchvision: convolutions kaiming_normal_(fan_out, relu),
// BatchNorm weight 1 bias 0, fc PyTorch's Linear default.
import { F, scope, type Tensor } from '../tensor/index.js';
import { Backbone } from './backbone.js';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d } from './conv.js';
import type { InitOptions } from './init.js';
import { IMAGENET_INPUT, type InputSpec } from './input-spec.js';
import { Linear } from './linear.js';
import { BasicBlock, Bottleneck, projection, type ResidualBlock } from './resnet-blocks.js';
import { Sequential } from './sequential.js';

export type ResNetDepth = 18 | 34 | 50 | 101;

const CONFIGS: Record<ResNetDepth, { block: 'basic' | 'bottleneck'; layers: [number, number, number, number] }> = {
  18: { block: 'basic', layers: [2, 2, 2, 2] },
  34: { block: 'basic', layers: [3, 4, 6, 3] },
  50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
};

export interface ResNetOptions extends InitOptions {
  /** Classes of the `fc` head; null builds no head (keys fc.* then do not exist). Default 1000. */
  numClasses?: number | null;
}

export class ResNet extends Backbone {
  readonly depth: ResNetDepth;
  readonly width: number;
  readonly input: InputSpec = IMAGENET_INPUT;
  readonly headPrefix = 'fc';
  readonly #conv1: Conv2d;
  readonly #bn1: BatchNorm2d;
  readonly #stages: Sequential[];
  readonly #fc: Linear | null;

  constructor(depth: ResNetDepth, o: ResNetOptions = {}) {
    super();
    const config = CONFIGS[depth];
    if (!config) throw new Error(`ResNet depth must be one of ${Object.keys(CONFIGS).join(', ')}, got ${depth}`);
    this.depth = depth;
    const init: InitOptions = { generator: o.generator };
    this.#conv1 = this.registerModule(
      'conv1',
      new Conv2d(3, 64, 7, { ...init, stride: 2, padding: 3, bias: false, weightInit: 'kaimingFanOut' }),
    );
    this.#bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    const expansion = config.block === 'basic' ? BasicBlock.expansion : Bottleneck.expansion;
    let inplanes = 64;
    this.#stages = [64, 128, 256, 512].map((planes, i) => {
      const stride = i === 0 ? 1 : 2;
      const blocks: ResidualBlock[] = [];
      for (let b = 0; b < (config.layers[i] as number); b++) {
        const first = b === 0;
        const downsample =
          first && (stride !== 1 || inplanes !== planes * expansion)
            ? projection(inplanes, planes * expansion, stride, init)
            : null;
        const options = { ...init, stride: first ? stride : 1, downsample };
        const block =
          config.block === 'basic'
            ? new BasicBlock(inplanes, planes, options)
            : new Bottleneck(inplanes, planes, options);
        blocks.push(block);
        inplanes = block.outChannels;
      }
      return this.registerModule(`layer${i + 1}`, new Sequential(...blocks));
    });
    this.width = inplanes;
    const numClasses = o.numClasses === undefined ? 1000 : o.numClasses;
    this.#fc = numClasses === null ? null : this.registerModule('fc', new Linear(this.width, numClasses, init));
  }

  featureMap(x: Tensor): Tensor {
    this.checkInput(x);
    return scope(() => {
      const stem = F.maxPool2d(this.#bn1.forward(this.#conv1.forward(x)).relu_(), 3, { stride: 2, padding: 1 });
      let h = stem;
      for (const stage of this.#stages) {
        const next = stage.forward(h);
        h.dispose(); // free each stage's input early (autograd keeps what it needs)
        h = next;
      }
      return h;
    });
  }

  features(x: Tensor): Tensor {
    return scope(() => F.adaptiveAvgPool2d(this.featureMap(x), 1).flatten(1));
  }

  /** Class logits through `fc` (the pooled features when built without a head). */
  forward(x: Tensor): Tensor {
    const fc = this.#fc;
    return fc ? scope(() => fc.forward(this.features(x))) : this.features(x);
  }
}

export const resnet18 = (o?: ResNetOptions) => new ResNet(18, o);
export const resnet34 = (o?: ResNetOptions) => new ResNet(34, o);
export const resnet50 = (o?: ResNetOptions) => new ResNet(50, o);
export const resnet101 = (o?: ResNetOptions) => new ResNet(101, o);
