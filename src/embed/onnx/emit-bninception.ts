// BN-Inception (src/nn/bninception.ts) as ONNX. Its pools use PyTorch's ceil_mode (ONNX ceil_mode=1);
// the average pools of the inception modules count the zero padding (count_include_pad=1). Returns the
// last feature map.
import { BatchNorm2d } from '../../nn/batchnorm.js';
import { type BnInception, MIXED, type MixedSpec } from '../../nn/bninception.js';
import { Conv2d } from '../../nn/conv.js';
import { type EmitOptions, emitAvgPool, emitConvBn, emitMaxPool } from './emit-layers.js';
import { attrInt, type GraphBuilder } from './proto.js';
import { child } from './tensor-data.js';

/** The unit registered as `<name>` (a convolution with bias) and `<name>_bn`, then ReLU. */
function unit(g: GraphBuilder, x: string, net: BnInception, name: string, prefix: string, o: EmitOptions): string {
  return emitConvBn(
    g,
    x,
    {
      conv: child(net, name, Conv2d),
      bn: child(net, `${name}_bn`, BatchNorm2d),
      convName: `${prefix}.${name}`,
      bnName: `${prefix}.${name}_bn`,
      relu: true,
    },
    o,
  );
}

function emitMixed(g: GraphBuilder, x: string, net: BnInception, spec: MixedSpec, prefix: string, o: EmitOptions) {
  const p = `inception_${spec.name}`;
  const u = (h: string, name: string) => unit(g, h, net, `${p}_${name}`, prefix, o);
  const branches: string[] = [];
  if (spec.conv1x1 !== null) branches.push(u(x, '1x1'));
  branches.push(u(u(x, '3x3_reduce'), '3x3'));
  branches.push(u(u(u(x, 'double_3x3_reduce'), 'double_3x3_1'), 'double_3x3_2'));
  const poolName = `${prefix}.${p}_pool`;
  let pooled: string;
  if (spec.conv1x1 === null) pooled = emitMaxPool(g, x, { kernel: 3, stride: 2, ceilMode: true }, poolName);
  else if (spec.pool === 'max') {
    pooled = emitMaxPool(g, x, { kernel: 3, stride: 1, padding: 1, ceilMode: true }, poolName);
  } else {
    const pool = { kernel: 3, stride: 1, padding: 1, ceilMode: true, countIncludePad: true };
    pooled = emitAvgPool(g, x, pool, poolName);
  }
  branches.push(spec.poolProj === null ? pooled : u(pooled, 'pool_proj'));
  return g.add('Concat', branches, { name: `${prefix}.${p}_output`, attrs: [attrInt('axis', 1)] });
}

export function emitBnInception(g: GraphBuilder, x: string, net: BnInception, prefix: string, o: EmitOptions): string {
  let h = unit(g, x, net, 'conv1_7x7_s2', prefix, o);
  h = emitMaxPool(g, h, { kernel: 3, stride: 2, ceilMode: true }, `${prefix}.pool1_3x3_s2`);
  h = unit(g, unit(g, h, net, 'conv2_3x3_reduce', prefix, o), net, 'conv2_3x3', prefix, o);
  h = emitMaxPool(g, h, { kernel: 3, stride: 2, ceilMode: true }, `${prefix}.pool2_3x3_s2`);
  for (const spec of MIXED) h = emitMixed(g, h, net, spec, prefix, o);
  return h;
}
