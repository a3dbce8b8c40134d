// Neural-network modules: layers, backbones and the embedder.
export { Identity, ReLU } from './activation.js';
export {
  type AttentionMasks,
  attendPacked,
  MultiheadSelfAttention,
  QkvSelfAttention,
  scaledDotProductAttention,
} from './attention.js';
export { Backbone } from './backbone.js';
export { BatchNorm2d, type BatchNormOptions } from './batchnorm.js';
export { BnInception, type BnInceptionOptions } from './bninception.js';
export { ClipVisionTransformer, type ClipVisionTransformerOptions } from './clip-vit.js';
export { Conv2d, type Conv2dOptions } from './conv.js';
export {
  DinoVisionTransformer,
  type DinoVisionTransformerOptions,
  interpolatePosEmbed,
  type PosEmbedInterpolation,
} from './dino-vit.js';
export {
  ARCHS,
  type Arch,
  archInput,
  createBackbone,
  createEmbedder,
  Embedder,
  type EmbedderOptions,
  isArch,
} from './embedder.js';
export { type Activation, FeedForward, type FeedForwardOptions } from './feed-forward.js';
export {
  defaultBias,
  defaultWeight,
  fans,
  type InitOptions,
  kaimingNormalRelu,
  normalTensor,
  truncNormal,
  uniformTensor,
  xavierUniform,
} from './init.js';
export {
  CAFFE_BGR_INPUT,
  CLIP_INPUT,
  DINO_INPUT,
  evalResize,
  GRAY28_INPUT,
  IMAGENET_INPUT,
  type InputSpec,
  normalisationAffine,
  type ResizeFilter,
  type ResizeMode,
  resamplingOf,
  TORCHVISION_VIT_INPUT,
  TORCHVISION_VIT_L_INPUT,
} from './input-spec.js';
export { LayerScale } from './layer-scale.js';
export { LayerNorm, type LayerNormOptions } from './layernorm.js';
export { Linear, type LinearOptions } from './linear.js';
export { type LoadStateDictOptions, Module } from './module.js';
export { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, type PoolOptions } from './pooling.js';
export { ResNet, type ResNetDepth, type ResNetOptions, resnet18, resnet34, resnet50, resnet101 } from './resnet.js';
export { BasicBlock, type BlockOptions, Bottleneck } from './resnet-blocks.js';
export { Sequential } from './sequential.js';
export { SmallCnn, type SmallCnnOptions } from './smallcnn.js';
export { type ShapeMismatch, StateDictError, type StateDictReport } from './state-dict-error.js';
export { type BlockLayout, TransformerBlock, type TransformerBlockOptions } from './transformer-block.js';
export { VisionTransformer, type VisionTransformerOptions } from './vision-transformer.js';
export { createVitBackbone, isVitArch, VIT_ARCHS, VIT_CONFIGS, type VitArch } from './vit-archs.js';
