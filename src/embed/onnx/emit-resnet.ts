// ResNet-18/34/50/101 (src/nn/resnet.ts, resnet-blocks.ts) as ONNX: the stem conv-bn-relu and 3x3/2 max
// pool (padding 1, floor mode), then four stages of BasicBlocks or Bottlenecks; returns the last feature map.
import { BatchNorm2d } from '../../nn/batchnorm.js';
import { Conv2d } from '../../nn/conv.js';
import type { Module } from '../../nn/module.js';
import type { ResNet } from '../../nn/resnet.js';
import { BasicBlock, Bottleneck } from '../../nn/resnet-blocks.js';
import { Sequential } from '../../nn/sequential.js';
import { type EmitOptions, emitConvBn, emitMaxPool, emitRelu } from './emit-layers.js';
import type { GraphBuilder } from './proto.js';
import { child, hasChild } from './tensor-data.js';

function convBn(g: GraphBuilder, x: string, m: Module, prefix: string, i: number | '', relu: boolean, o: EmitOptions) {
  return emitConvBn(
    g,
    x,
    {
      conv: child(m, `conv${i}`, Conv2d),
      bn: child(m, `bn${i}`, BatchNorm2d),
      convName: `${prefix}.conv${i}`,
      bnName: `${prefix}.bn${i}`,
      relu,
    },
    o,
  );
}

function emitBlock(g: GraphBuilder, x: string, block: Module, prefix: string, o: EmitOptions): string {
  const convs = block instanceof Bottleneck ? 3 : block instanceof BasicBlock ? 2 : 0;
  if (convs === 0) throw new Error(`ONNX export: ${prefix} is a ${block.constructor.name}, not a ResNet block`);
  let h = x;
  for (let i = 1; i <= convs; i++) h = convBn(g, h, block, prefix, i, i < convs, o);
  let identity = x;
  if (hasChild(block, 'downsample')) {
    const ds = child(block, 'downsample', Sequential);
    identity = emitConvBn(
      g,
      x,
      {
        conv: child(ds, '0', Conv2d),
        bn: child(ds, '1', BatchNorm2d),
        convName: `${prefix}.downsample.0`,
        bnName: `${prefix}.downsample.1`,
        relu: false,
      },
      o,
    );
  }
  return emitRelu(g, g.add('Add', [h, identity], { name: `${prefix}.add` }), `${prefix}.relu`);
}

export function emitResNet(g: GraphBuilder, x: string, net: ResNet, prefix: string, o: EmitOptions): string {
  let h = convBn(g, x, net, prefix, 1, true, o);
  h = emitMaxPool(g, h, { kernel: 3, stride: 2, padding: 1 }, `${prefix}.maxpool`);
  for (let stage = 1; stage <= 4; stage++) {
    const layer = child(net, `layer${stage}`, Sequential);
    for (const [name, block] of layer.namedChildren()) {
      h = emitBlock(g, h, block, `${prefix}.layer${stage}.${name}`, o);
    }
  }
  return h;
}
