// The small CNN (src/nn/smallcnn.ts) as ONNX: conv3x3-BN-ReLU blocks with a 2x2 max pool after every
// block but the last. Returns the last feature map.
import { BatchNorm2d } from '../../nn/batchnorm.js';
import { Conv2d } from '../../nn/conv.js';
import type { SmallCnn } from '../../nn/smallcnn.js';
import { type EmitOptions, emitConvBn, emitMaxPool } from './emit-layers.js';
import type { GraphBuilder } from './proto.js';
import { child, hasChild } from './tensor-data.js';

export function emitSmallCnn(g: GraphBuilder, x: string, net: SmallCnn, prefix: string, o: EmitOptions): string {
  let blocks = 0;
  while (hasChild(net, `conv${blocks + 1}`)) blocks++;
  let h = x;
  for (let i = 1; i <= blocks; i++) {
    const convName = `${prefix}.conv${i}`;
    const bnName = `${prefix}.bn${i}`;
    h = emitConvBn(
      g,
      h,
      { conv: child(net, `conv${i}`, Conv2d), bn: child(net, `bn${i}`, BatchNorm2d), convName, bnName, relu: true },
      o,
    );
    if (i < blocks) h = emitMaxPool(g, h, { kernel: 2 }, `${prefix}.pool${i}`);
  }
  return h;
}
