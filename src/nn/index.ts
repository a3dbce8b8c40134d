// Neural-network modules: layers, backbones and the embedder.
export { Identity, ReLU } from './activation.js';
export { Backbone } from './backbone.js';
export { BatchNorm2d, type BatchNormOptions } from './batchnorm.js';
export { BnInception, type BnInceptionOptions } from './bninception.js';
export { Conv2d, type Conv2dOptions } from './conv.js';
export {
  ARCHS,
  type Arch,
  createBackbone,
  createEmbedder,
  Embedder,
  type EmbedderOptions,
  isArch,
} from './embedder.js';
export { defaultBias, defaultWeight, fans, type InitOptions, kaimingNormalRelu, uniformTensor } from './init.js';
export { CAFFE_BGR_INPUT, GRAY28_INPUT, IMAGENET_INPUT, type InputSpec, normalisationAffine } from './input-spec.js';
export { LayerNorm, type LayerNormOptions } from './layernorm.js';
export { Linear, type LinearOptions } from './linear.js';
export { type LoadStateDictOptions, Module } from './module.js';
export { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, type PoolOptions } from './pooling.js';
export { ResNet, type ResNetDepth, type ResNetOptions, resnet18, resnet34, resnet50, resnet101 } from './resnet.js';
export { BasicBlock, type BlockOptions, Bottleneck } from './resnet-blocks.js';
export { Sequential } from './sequential.js';
export { SmallCnn, type SmallCnnOptions } from './smallcnn.js';
export { type ShapeMismatch, StateDictError, type StateDictReport } from './state-dict-error.js';
