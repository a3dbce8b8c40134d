// The whole embedder as one ONNX graph: images -> backbone -> global average pool (a ViT: its class token)
// -> LayerNorm head (eps 1e-5, no affine) -> remap (when dim != width) -> x / max(||x||_2, 1e-12) -> embeddings, as
// src/nn/embedder.ts computes in eval mode.
import { BnInception } from '../../nn/bninception.js';
import type { Embedder } from '../../nn/embedder.js';
import { ResNet } from '../../nn/resnet.js';
import { SmallCnn } from '../../nn/smallcnn.js';
import { emitBnInception } from './emit-bninception.js';
import { type EmitOptions, emitGlobalAvgPool, emitL2Normalize, emitLayerNorm, emitLinear } from './emit-layers.js';
import { emitResNet } from './emit-resnet.js';
import { emitSmallCnn } from './emit-smallcnn.js';
import { emitVit, isVitBackbone } from './emit-vit.js';
import { INPUT_NAME, OUTPUT_NAME } from './metadata.js';
import { irVersionFor } from './opset.js';
import { type Dim, GraphBuilder, type ModelProto, tensorValueInfo } from './proto.js';

// The constants of Embedder.forward (src/nn/embedder.ts).
const LAYER_NORM_EPS = 1e-5;
const NORMALIZE_EPS = 1e-12;

export interface GraphOptions extends EmitOptions {
  opset: number;
  /** A symbolic batch dimension "N" (else the batch is fixed to 1). */
  dynamicBatch: boolean;
  /** Fixed input height and width, or null for symbolic "H" and "W" (global pooling takes any size). */
  inputSize: number | null;
  metadata: Readonly<Record<string, string>>;
  producerVersion: string;
}

function emitBackbone(g: GraphBuilder, x: string, model: Embedder, o: EmitOptions): string {
  const b = model.backbone;
  if (b instanceof ResNet) return emitResNet(g, x, b, 'backbone', o);
  if (b instanceof BnInception) return emitBnInception(g, x, b, 'backbone', o);
  if (b instanceof SmallCnn) return emitSmallCnn(g, x, b, 'backbone', o);
  throw new Error(`ONNX export: no emitter for the ${b.constructor.name} backbone`);
}

export function buildModelProto(model: Embedder, o: GraphOptions): ModelProto {
  const g = new GraphBuilder(o.opset);
  const images = g.reserve(INPUT_NAME);
  const emit: EmitOptions = { foldBn: o.foldBn };
  // A ViT's features are its class token (no pooling), for one input size (exportOnnx fixes it).
  const vit = isVitBackbone(model.backbone);
  if (vit && o.inputSize === null) throw new Error('ONNX export: a ViT is exported for one input size');
  let h = vit
    ? emitVit(g, images, model.backbone, o.inputSize as number, 'backbone')
    : emitGlobalAvgPool(g, emitBackbone(g, images, model, emit), 'pool');
  if (model.layerNorm) h = emitLayerNorm(g, h, model.width, LAYER_NORM_EPS, 'norm');
  if (model.remap) h = emitLinear(g, h, model.remap, 'remap');
  // Every other value name starts with its module's prefix, so OUTPUT_NAME is still free here.
  emitL2Normalize(g, h, NORMALIZE_EPS, 'l2norm', OUTPUT_NAME);
  const batch: Dim = o.dynamicBatch ? 'N' : 1;
  const hw: Dim[] = o.inputSize === null ? ['H', 'W'] : [o.inputSize, o.inputSize];
  return {
    irVersion: irVersionFor(o.opset),
    producerName: 'normsoftmax',
    producerVersion: o.producerVersion,
    docString: `normsoftmax ${model.arch} embedder (dim ${model.dim}): unit-length embeddings of normalised images`,
    opsetImport: [{ domain: '', version: o.opset }],
    graph: {
      name: `normsoftmax_${model.arch}_${model.dim}`,
      node: g.nodes,
      initializer: g.initializers,
      input: [tensorValueInfo(INPUT_NAME, [batch, model.input.channels, ...hw])],
      output: [tensorValueInfo(OUTPUT_NAME, [batch, model.dim])],
    },
    metadataProps: Object.entries(o.metadata).map(([key, value]) => ({ key, value })),
  };
}
