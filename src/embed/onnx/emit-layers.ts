// Emitters of single layers: convolution (+ BatchNorm, folded or not) (+ ReLU), pooling, the LayerNorm
// head (one node from opset 17, decomposed below), the remap and the L2 normalisation.
import type { BatchNorm2d } from '../../nn/batchnorm.js';
import type { Conv2d } from '../../nn/conv.js';
import type { Linear } from '../../nn/linear.js';
import { foldBatchNorm } from './bn-fold.js';
import { REDUCE_AXES_AS_INPUT } from './opset.js';
import { attrFloat, attrInt, attrInts, type GraphBuilder } from './proto.js';
import { floatData } from './tensor-data.js';

export interface EmitOptions {
  /** Fold each BatchNorm into the convolution before it (default on). */
  foldBn: boolean;
}

type Pair = number | readonly [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

function convAttrs(conv: Conv2d) {
  const [ph, pw] = conv.padding;
  return [
    attrInts('kernel_shape', conv.kernelSize),
    attrInts('strides', conv.stride),
    attrInts('pads', [ph, pw, ph, pw]),
    attrInts('dilations', conv.dilation),
    attrInt('group', conv.groups),
  ];
}

function bnParams(bn: BatchNorm2d) {
  return {
    weight: bn.weight ? floatData(bn.weight) : null,
    bias: bn.bias ? floatData(bn.bias) : null,
    runningMean: floatData(bn.runningMean),
    runningVar: floatData(bn.runningVar),
    eps: bn.eps,
  };
}

export function emitConv(g: GraphBuilder, x: string, conv: Conv2d, name: string): string {
  const w = g.floatInit(`${name}.weight`, floatData(conv.weight), conv.weight.shape);
  const inputs = [x, w];
  if (conv.bias) inputs.push(g.floatInit(`${name}.bias`, floatData(conv.bias), conv.bias.shape));
  return g.add('Conv', inputs, { name, attrs: convAttrs(conv) });
}

export function emitBatchNorm(g: GraphBuilder, x: string, bn: BatchNorm2d, name: string): string {
  const p = bnParams(bn);
  const c = bn.numFeatures;
  const inputs = [
    x,
    g.floatInit(`${name}.weight`, p.weight ?? new Float32Array(c).fill(1), [c]),
    g.floatInit(`${name}.bias`, p.bias ?? new Float32Array(c), [c]),
    g.floatInit(`${name}.running_mean`, p.runningMean, [c]),
    g.floatInit(`${name}.running_var`, p.runningVar, [c]),
  ];
  return g.add('BatchNormalization', inputs, { name, attrs: [attrFloat('epsilon', bn.eps)] });
}

/** conv -> BatchNorm (eval mode) -> optional ReLU; with foldBn one Conv node carries the BatchNorm. */
export function emitConvBn(
  g: GraphBuilder,
  x: string,
  u: { conv: Conv2d; bn: BatchNorm2d; convName: string; bnName: string; relu: boolean },
  o: EmitOptions,
): string {
  let h: string;
  if (o.foldBn) {
    const conv = u.conv;
    const folded = foldBatchNorm(floatData(conv.weight), conv.bias ? floatData(conv.bias) : null, bnParams(u.bn));
    const w = g.floatInit(`${u.convName}.weight`, folded.weight, conv.weight.shape);
    const b = g.floatInit(`${u.convName}.bias`, folded.bias, [conv.outChannels]);
    h = g.add('Conv', [x, w, b], { name: u.convName, attrs: convAttrs(conv) });
  } else {
    h = emitBatchNorm(g, emitConv(g, x, u.conv, u.convName), u.bn, u.bnName);
  }
  return u.relu ? g.add('Relu', [h], { name: `${u.bnName}.relu` }) : h;
}

export function emitRelu(g: GraphBuilder, x: string, name: string): string {
  return g.add('Relu', [x], { name });
}

export interface PoolSpec {
  kernel: Pair;
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}

function poolAttrs(p: PoolSpec) {
  const kernel = pair(p.kernel);
  const [ph, pw] = pair(p.padding ?? 0);
  return [
    attrInts('kernel_shape', kernel),
    attrInts('strides', pair(p.stride ?? kernel)),
    attrInts('pads', [ph, pw, ph, pw]),
    attrInt('ceil_mode', p.ceilMode ? 1 : 0),
  ];
}

export function emitMaxPool(g: GraphBuilder, x: string, p: PoolSpec, name: string): string {
  return g.add('MaxPool', [x], { name, attrs: poolAttrs(p) });
}

/** PyTorch's count_include_pad=True divides by the window including zero padding (ONNX count_include_pad=1). */
export function emitAvgPool(
  g: GraphBuilder,
  x: string,
  p: PoolSpec & { countIncludePad: boolean },
  name: string,
): string {
  const attrs = [...poolAttrs(p), attrInt('count_include_pad', p.countIncludePad ? 1 : 0)];
  return g.add('AveragePool', [x], { name, attrs });
}

/** adaptive_avg_pool2d(x, 1).flatten(1) as GlobalAveragePool + Flatten: any input height and width. */
export function emitGlobalAvgPool(g: GraphBuilder, x: string, name: string): string {
  const pooled = g.add('GlobalAveragePool', [x], { name });
  return g.add('Flatten', [pooled], { name: `${name}.flatten`, attrs: [attrInt('axis', 1)] });
}

function emitReduce(g: GraphBuilder, op: 'ReduceMean' | 'ReduceL2', x: string, axes: number[], name: string): string {
  if (g.opset >= REDUCE_AXES_AS_INPUT) {
    const axesInput = g.int64Init(`${name}.axes`, axes);
    return g.add(op, [x, axesInput], { name, attrs: [attrInt('keepdims', 1)] });
  }
  return g.add(op, [x], { name, attrs: [attrInts('axes', axes), attrInt('keepdims', 1)] });
}

/** LayerNorm over the last axis without a learnt scale and shift (the embedder's head), biased variance. */
export function emitLayerNorm(g: GraphBuilder, x: string, width: number, eps: number, name: string): string {
  if (g.opset >= 17) {
    const scale = g.floatInit(`${name}.scale`, new Float32Array(width).fill(1), [width]);
    return g.add('LayerNormalization', [x, scale], { name, attrs: [attrInt('axis', -1), attrFloat('epsilon', eps)] });
  }
  const mean = emitReduce(g, 'ReduceMean', x, [-1], `${name}.mean`);
  const centred = g.add('Sub', [x, mean], { name: `${name}.centred` });
  const squared = g.add('Mul', [centred, centred], { name: `${name}.squared` });
  const variance = emitReduce(g, 'ReduceMean', squared, [-1], `${name}.var`);
  const epsilon = g.floatInit(`${name}.eps`, Float32Array.of(eps), []);
  const std = g.add('Sqrt', [g.add('Add', [variance, epsilon], { name: `${name}.var_eps` })], { name: `${name}.std` });
  return g.add('Div', [centred, std], { name });
}

/** y = x W^T (+ b) as MatMul with the transposed weight stored. */
export function emitLinear(g: GraphBuilder, x: string, linear: Linear, name: string): string {
  const out = linear.outFeatures;
  const inF = linear.inFeatures;
  const w = floatData(linear.weight);
  const wt = new Float32Array(w.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) wt[i * out + o] = w[o * inF + i] as number;
  const y = g.add('MatMul', [x, g.floatInit(`${name}.weight_t`, wt, [inF, out])], { name });
  const bias = linear.bias;
  if (!bias) return y;
  return g.add('Add', [y, g.floatInit(`${name}.bias`, floatData(bias), [out])], { name: `${name}.bias_add` });
}

/** F.normalize(x, p=2, dim=1, eps): x / max(||x||_2, eps), written to `output`. */
export function emitL2Normalize(g: GraphBuilder, x: string, eps: number, name: string, output: string): string {
  const norm = emitReduce(g, 'ReduceL2', x, [1], `${name}.norm`);
  const floor = g.add('Max', [norm, g.floatInit(`${name}.eps`, Float32Array.of(eps), [])], { name: `${name}.clamp` });
  return g.add('Div', [x, floor], { name, output });
}
