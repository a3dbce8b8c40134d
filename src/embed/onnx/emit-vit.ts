// The three ViT backbones (torchvision's VisionTransformer, DINO/DINOv2's, CLIP's image tower) as ONNX nodes,
// read from their parameters by the publishers' names and mirroring their forwards: patch convolution,
// the class token (and DINOv2's registers) with the position embeddings added, the pre-norm blocks
// (LayerNorm, packed-qkv attention with softmax over the keys, LayerScale, GELU or QuickGELU MLP), the class
// token after the final norm (CLIP: times proj). The graph takes one image size: the position embeddings
// for it are computed at export (DINO's bicubic interpolation by our own libtorch code), so DINO exports
// at any multiple of its patch and torchvision / CLIP at their one size.
import { MultiheadSelfAttention, QkvSelfAttention } from '../../nn/attention.js';
import type { Backbone } from '../../nn/backbone.js';
import { ClipVisionTransformer } from '../../nn/clip-vit.js';
import { DinoVisionTransformer, interpolatePosEmbed } from '../../nn/dino-vit.js';
import { VisionTransformer } from '../../nn/vision-transformer.js';
import { scope, type Tensor } from '../../tensor/index.js';
import { attrFloat, attrInt, attrInts, type GraphBuilder } from './proto.js';
import { floatData } from './tensor-data.js';

type Activation = 'gelu' | 'quickgelu';

interface Norm {
  weight: Float32Array;
  bias: Float32Array;
}

interface Dense {
  /** [out, in] as PyTorch stores it. */
  weight: Float32Array;
  bias: Float32Array | null;
  out: number;
  in: number;
}

interface Block {
  norm1: Norm;
  qkv: Dense;
  proj: Dense;
  ls1: Float32Array | null;
  norm2: Norm;
  fc1: Dense;
  fc2: Dense;
  ls2: Float32Array | null;
}

/** What every family reduces to: the same computation with its own constants. */
interface VitPlan {
  patch: number;
  dim: number;
  heads: number;
  eps: number;
  activation: Activation;
  conv: { weight: Float32Array; bias: Float32Array | null; shape: readonly number[] };
  /** The class token plus its position embedding, [dim]. */
  clsPos: Float32Array;
  /** The patch positions for the export grid, [gh * gw, dim]. */
  patchPos: Float32Array;
  registers: Float32Array | null;
  registerCount: number;
  /** CLIP's ln_pre. */
  preNorm: Norm | null;
  blocks: Block[];
  finalNorm: Norm;
  /** CLIP's proj [dim, out]. */
  outProj: { data: Float32Array; out: number } | null;
}

export function isVitBackbone(b: Backbone): boolean {
  return b instanceof VisionTransformer || b instanceof DinoVisionTransformer || b instanceof ClipVisionTransformer;
}

/** The image size a ViT's graph is exported at: `size`, after checking that the model takes it. */
export function vitExportSize(b: Backbone, size: number): number {
  const fixed =
    b instanceof VisionTransformer ? b.imageSize : b instanceof ClipVisionTransformer ? b.inputResolution : null;
  if (fixed !== null && size !== fixed) {
    throw new RangeError(`ONNX export: ${b.constructor.name} takes ${fixed} x ${fixed} images, not ${size} x ${size}`);
  }
  if (b instanceof DinoVisionTransformer && size % b.patchSize !== 0) {
    throw new RangeError(`ONNX export: ${size} x ${size} is not a whole number of ${b.patchSize}-pixel patches`);
  }
  return size;
}

function planOf(b: Backbone, size: number): VitPlan {
  const p = Object.fromEntries(b.namedParameters()) as Record<string, Tensor>;
  const get = (name: string): Tensor => {
    const t = p[name];
    if (!t) throw new Error(`ONNX export: ${b.constructor.name} has no parameter '${name}'`);
    return t;
  };
  const data = (name: string) => floatData(get(name));
  const norm = (prefix: string): Norm => ({ weight: data(`${prefix}.weight`), bias: data(`${prefix}.bias`) });
  const dense = (w: string, bias: string | null): Dense => {
    const t = get(w);
    return {
      weight: floatData(t),
      bias: bias === null ? null : data(bias),
      out: t.shape[0] as number,
      in: t.shape[1] as number,
    };
  };
  const has = (name: string) => name in p;
  const count = (prefix: string, probe: string) => {
    let n = 0;
    while (has(`${prefix}${n}.${probe}.weight`)) n++;
    return n;
  };
  const sum = (a: Float32Array, b2: Float32Array) => a.map((v, i) => v + (b2[i] as number));

  if (b instanceof VisionTransformer) {
    const pos = data('encoder.pos_embedding');
    const dim = b.width;
    const blocks = Array.from({ length: count('encoder.layers.encoder_layer_', 'ln_1') }, (_, i) => {
      const q = `encoder.layers.encoder_layer_${i}`;
      return {
        norm1: norm(`${q}.ln_1`),
        qkv: dense(`${q}.self_attention.in_proj_weight`, `${q}.self_attention.in_proj_bias`),
        proj: dense(`${q}.self_attention.out_proj.weight`, `${q}.self_attention.out_proj.bias`),
        ls1: null,
        norm2: norm(`${q}.ln_2`),
        fc1: dense(`${q}.mlp.0.weight`, `${q}.mlp.0.bias`),
        fc2: dense(`${q}.mlp.3.weight`, `${q}.mlp.3.bias`),
        ls2: null,
      };
    });
    const conv = get('conv_proj.weight');
    return {
      patch: b.patchSize,
      dim,
      heads: headsOf(b, dim),
      eps: 1e-6,
      activation: 'gelu',
      conv: { weight: floatData(conv), bias: data('conv_proj.bias'), shape: conv.shape },
      clsPos: sum(data('class_token'), pos.subarray(0, dim)),
      patchPos: pos.slice(dim),
      registers: null,
      registerCount: 0,
      preNorm: null,
      blocks,
      finalNorm: norm('encoder.ln'),
      outProj: null,
    };
  }
  if (b instanceof DinoVisionTransformer) {
    const dim = b.width;
    const grid = size / b.patchSize;
    const pos = scope(() => floatData(interpolatePosEmbed(get('pos_embed'), [grid, grid], b.interpolation)));
    const blocks = Array.from({ length: count('blocks.', 'norm1') }, (_, i) => {
      const q = `blocks.${i}`;
      return {
        norm1: norm(`${q}.norm1`),
        qkv: dense(`${q}.attn.qkv.weight`, `${q}.attn.qkv.bias`),
        proj: dense(`${q}.attn.proj.weight`, `${q}.attn.proj.bias`),
        ls1: has(`${q}.ls1.gamma`) ? data(`${q}.ls1.gamma`) : null,
        norm2: norm(`${q}.norm2`),
        fc1: dense(`${q}.mlp.fc1.weight`, `${q}.mlp.fc1.bias`),
        fc2: dense(`${q}.mlp.fc2.weight`, `${q}.mlp.fc2.bias`),
        ls2: has(`${q}.ls2.gamma`) ? data(`${q}.ls2.gamma`) : null,
      };
    });
    const conv = get('patch_embed.proj.weight');
    return {
      patch: b.patchSize,
      dim,
      heads: headsOf(b, dim),
      eps: 1e-6,
      activation: 'gelu',
      conv: { weight: floatData(conv), bias: data('patch_embed.proj.bias'), shape: conv.shape },
      clsPos: sum(data('cls_token'), pos.subarray(0, dim)),
      patchPos: pos.slice(dim),
      registers: b.registers > 0 ? data('register_tokens') : null,
      registerCount: b.registers,
      preNorm: null,
      blocks,
      finalNorm: norm('norm'),
      outProj: null,
    };
  }
  if (b instanceof ClipVisionTransformer) {
    const conv = get('conv1.weight');
    const dim = conv.shape[0] as number;
    const pos = data('positional_embedding');
    const blocks = Array.from({ length: count('transformer.resblocks.', 'ln_1') }, (_, i) => {
      const q = `transformer.resblocks.${i}`;
      return {
        norm1: norm(`${q}.ln_1`),
        qkv: dense(`${q}.attn.in_proj_weight`, `${q}.attn.in_proj_bias`),
        proj: dense(`${q}.attn.out_proj.weight`, `${q}.attn.out_proj.bias`),
        ls1: null,
        norm2: norm(`${q}.ln_2`),
        fc1: dense(`${q}.mlp.c_fc.weight`, `${q}.mlp.c_fc.bias`),
        fc2: dense(`${q}.mlp.c_proj.weight`, `${q}.mlp.c_proj.bias`),
        ls2: null,
      };
    });
    return {
      patch: b.patchSize,
      dim,
      heads: headsOf(b, dim),
      eps: 1e-5,
      activation: 'quickgelu',
      conv: { weight: floatData(conv), bias: null, shape: conv.shape },
      clsPos: sum(data('class_embedding'), pos.subarray(0, dim)),
      patchPos: pos.slice(dim),
      registers: null,
      registerCount: 0,
      preNorm: norm('ln_pre'),
      blocks,
      finalNorm: norm('ln_post'),
      outProj: { data: data('proj'), out: b.width },
    };
  }
  throw new Error(`ONNX export: ${b.constructor.name} is not a ViT`);
}

/** The attention's head count, as its module says. */
function headsOf(b: Backbone, dim: number): number {
  const attn = b
    .namedModules()
    .map(([, m]) => m)
    .find((m) => m instanceof MultiheadSelfAttention || m instanceof QkvSelfAttention);
  if (!attn || attn.dim !== dim) throw new Error(`ONNX export: ${b.constructor.name} has no attention of width ${dim}`);
  return attn.heads;
}

/** x W^T (+ b) over the last axis, W stored transposed as [in, out]. */
function emitDense(g: GraphBuilder, x: string, d: Dense, name: string): string {
  const wt = new Float32Array(d.weight.length);
  for (let o = 0; o < d.out; o++) for (let i = 0; i < d.in; i++) wt[i * d.out + o] = d.weight[o * d.in + i] as number;
  const y = g.add('MatMul', [x, g.floatInit(`${name}.weight_t`, wt, [d.in, d.out])], { name });
  if (!d.bias) return y;
  return g.add('Add', [y, g.floatInit(`${name}.bias`, d.bias, [d.out])], { name: `${name}.bias_add` });
}

function emitReduceMean(g: GraphBuilder, x: string, name: string): string {
  if (g.opset >= 18) {
    return g.add('ReduceMean', [x, g.int64Init(`${name}.axes`, [-1])], { name, attrs: [attrInt('keepdims', 1)] });
  }
  return g.add('ReduceMean', [x], { name, attrs: [attrInts('axes', [-1]), attrInt('keepdims', 1)] });
}

/** LayerNorm over the last axis with its scale and shift (one node from opset 17). */
function emitAffineLayerNorm(g: GraphBuilder, x: string, n: Norm, eps: number, name: string): string {
  const scale = g.floatInit(`${name}.weight`, n.weight, [n.weight.length]);
  const shift = g.floatInit(`${name}.bias`, n.bias, [n.bias.length]);
  if (g.opset >= 17) {
    return g.add('LayerNormalization', [x, scale, shift], {
      name,
      attrs: [attrInt('axis', -1), attrFloat('epsilon', eps)],
    });
  }
  const mean = emitReduceMean(g, x, `${name}.mean`);
  const centred = g.add('Sub', [x, mean], { name: `${name}.centred` });
  const variance = emitReduceMean(g, g.add('Mul', [centred, centred], { name: `${name}.squared` }), `${name}.var`);
  const epsilon = g.floatInit(`${name}.eps`, Float32Array.of(eps), []);
  const std = g.add('Sqrt', [g.add('Add', [variance, epsilon], { name: `${name}.var_eps` })], { name: `${name}.std` });
  const normed = g.add('Div', [centred, std], { name: `${name}.normed` });
  return g.add('Add', [g.add('Mul', [normed, scale], { name: `${name}.scaled` }), shift], { name });
}

/** GELU (exact: x / 2 * (1 + erf(x / sqrt 2))) or CLIP's QuickGELU (x * sigmoid(1.702 x)). */
function emitActivation(g: GraphBuilder, x: string, activation: Activation, name: string): string {
  if (activation === 'quickgelu') {
    const k = g.floatInit(`${name}.k`, Float32Array.of(1.702), []);
    const gate = g.add('Sigmoid', [g.add('Mul', [x, k], { name: `${name}.kx` })], { name: `${name}.gate` });
    return g.add('Mul', [x, gate], { name });
  }
  const root2 = g.floatInit(`${name}.sqrt2`, Float32Array.of(Math.SQRT2), []);
  const erf = g.add('Erf', [g.add('Div', [x, root2], { name: `${name}.scaled` })], { name: `${name}.erf` });
  const one = g.floatInit(`${name}.one`, Float32Array.of(1), []);
  const half = g.floatInit(`${name}.half`, Float32Array.of(0.5), []);
  const gate = g.add('Mul', [g.add('Add', [erf, one], { name: `${name}.erf1` }), half], { name: `${name}.gate` });
  return g.add('Mul', [x, gate], { name });
}

/** Self-attention over tokens [N, T, D]: packed qkv, heads, softmax(q k^T / sqrt d) v, output projection. */
function emitAttention(g: GraphBuilder, x: string, plan: VitPlan, block: Block, name: string): string {
  const { dim, heads } = plan;
  const d = dim / heads;
  const qkv = emitDense(g, x, block.qkv, `${name}.qkv`);
  const split = g.add('Reshape', [qkv, g.int64Init(`${name}.qkv_shape`, [0, -1, 3, heads, d])], {
    name: `${name}.qkv_heads`,
  });
  // [3, N, heads, T, d]
  const parts = g.add('Transpose', [split], { name: `${name}.qkv_t`, attrs: [attrInts('perm', [2, 0, 3, 1, 4])] });
  const take = (i: number, what: string) =>
    g.add('Gather', [parts, g.int64Init(`${name}.${what}_index`, [i], [])], {
      name: `${name}.${what}`,
      attrs: [attrInt('axis', 0)],
    });
  const scale = g.floatInit(`${name}.scale`, Float32Array.of(d ** -0.5), []);
  const q = g.add('Mul', [take(0, 'q'), scale], { name: `${name}.q_scaled` });
  const kT = g.add('Transpose', [take(1, 'k')], { name: `${name}.k_t`, attrs: [attrInts('perm', [0, 1, 3, 2])] });
  const scores = g.add('MatMul', [q, kT], { name: `${name}.scores` });
  const weights = g.add('Softmax', [scores], { name: `${name}.softmax`, attrs: [attrInt('axis', -1)] });
  const mixed = g.add('MatMul', [weights, take(2, 'v')], { name: `${name}.mixed` });
  const merged = g.add('Transpose', [mixed], { name: `${name}.merged_t`, attrs: [attrInts('perm', [0, 2, 1, 3])] });
  const flat = g.add('Reshape', [merged, g.int64Init(`${name}.merged_shape`, [0, 0, dim])], { name: `${name}.merged` });
  return emitDense(g, flat, block.proj, `${name}.proj`);
}

function emitBlock(g: GraphBuilder, x: string, plan: VitPlan, block: Block, name: string): string {
  let h = emitAttention(g, emitAffineLayerNorm(g, x, block.norm1, plan.eps, `${name}.norm1`), plan, block, name);
  if (block.ls1) h = g.add('Mul', [h, g.floatInit(`${name}.ls1`, block.ls1, [plan.dim])], { name: `${name}.ls1` });
  const mid = g.add('Add', [x, h], { name: `${name}.residual1` });
  const hidden = emitDense(
    g,
    emitAffineLayerNorm(g, mid, block.norm2, plan.eps, `${name}.norm2`),
    block.fc1,
    `${name}.fc1`,
  );
  let m = emitDense(g, emitActivation(g, hidden, plan.activation, `${name}.act`), block.fc2, `${name}.fc2`);
  if (block.ls2) m = g.add('Mul', [m, g.floatInit(`${name}.ls2`, block.ls2, [plan.dim])], { name: `${name}.ls2` });
  return g.add('Add', [mid, m], { name: `${name}.residual2` });
}

/**
 * The backbone's features [N, width] of images x [N, 3, size, size]: the class token after the final norm
 * (CLIP: times proj).
 */
export function emitVit(g: GraphBuilder, x: string, backbone: Backbone, size: number, name: string): string {
  const plan = planOf(backbone, vitExportSize(backbone, size));
  const { dim, patch } = plan;
  const conv = [x, g.floatInit(`${name}.patch.weight`, plan.conv.weight, plan.conv.shape)];
  if (plan.conv.bias) conv.push(g.floatInit(`${name}.patch.bias`, plan.conv.bias, [dim]));
  const map = g.add('Conv', conv, {
    name: `${name}.patch`,
    attrs: [attrInts('kernel_shape', [patch, patch]), attrInts('strides', [patch, patch])],
  });
  // [N, D, gh, gw] -> [N, gh * gw, D], plus the patch positions.
  const flat = g.add('Reshape', [map, g.int64Init(`${name}.patch_shape`, [0, dim, -1])], { name: `${name}.flat` });
  const tokens = g.add('Transpose', [flat], { name: `${name}.tokens`, attrs: [attrInts('perm', [0, 2, 1])] });
  const positions = plan.patchPos.length / dim;
  const placed = g.add('Add', [tokens, g.floatInit(`${name}.patch_pos`, plan.patchPos, [positions, dim])], {
    name: `${name}.placed`,
  });
  // The leading tokens, [1, k, D] broadcast to the batch: Expand to [N, 1, 1].
  const batch = g.add(
    'Slice',
    [
      g.add('Shape', [x], { name: `${name}.input_shape` }),
      g.int64Init(`${name}.batch_start`, [0]),
      g.int64Init(`${name}.batch_end`, [1]),
    ],
    { name: `${name}.batch` },
  );
  const expandTo = g.add('Concat', [batch, g.int64Init(`${name}.ones`, [1, 1])], {
    name: `${name}.expand_shape`,
    attrs: [attrInt('axis', 0)],
  });
  const leading = (data: Float32Array, count: number, what: string) =>
    g.add('Expand', [g.floatInit(`${name}.${what}`, data, [1, count, dim]), expandTo], { name: `${name}.${what}_n` });
  const parts = [leading(plan.clsPos, 1, 'cls')];
  if (plan.registers) parts.push(leading(plan.registers, plan.registerCount, 'registers'));
  parts.push(placed);
  let h = g.add('Concat', parts, { name: `${name}.sequence`, attrs: [attrInt('axis', 1)] });
  if (plan.preNorm) h = emitAffineLayerNorm(g, h, plan.preNorm, plan.eps, `${name}.ln_pre`);
  plan.blocks.forEach((block, i) => {
    h = emitBlock(g, h, plan, block, `${name}.block${i}`);
  });
  const cls = g.add('Gather', [h, g.int64Init(`${name}.cls_index`, [0], [])], {
    name: `${name}.cls`,
    attrs: [attrInt('axis', 1)],
  });
  const normed = emitAffineLayerNorm(g, cls, plan.finalNorm, plan.eps, `${name}.norm`);
  if (!plan.outProj) return normed;
  const proj = g.floatInit(`${name}.proj`, plan.outProj.data, [dim, plan.outProj.out]);
  return g.add('MatMul', [normed, proj], { name: `${name}.proj` });
}
