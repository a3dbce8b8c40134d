// Multi-head self-attention on the tensor API (libtorch 1.13 has no fused attention), in the two weight
// layouts vision transformers are published in: torch.nn.MultiheadAttention's (in_proj_weight,
// in_proj_bias, out_proj; torchvision's ViT and CLIP) and timm's (qkv, proj; DINO and DINOv2). Both pack
// the projections the same way: rows [0, D) of the packed weight make the queries, [D, 2D) the keys and
// [2D, 3D) the values, each split into heads of D / heads features.
import { F, noGrad, scope, type Tensor } from '../tensor/index.js';
import { defaultBias, type InitOptions, truncNormal, xavierUniform } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

export interface AttentionMasks {
  /**
   * Broadcastable to [B, heads, N, N] (e.g. [N, N]): bool, true where a query may NOT attend to a key
   * (torch.nn.MultiheadAttention's attn_mask), or float, added to the scaled scores.
   */
  mask?: Tensor | null;
  /** Bool [B, N]: true for keys that no query may attend to (MultiheadAttention's key_padding_mask). */
  keyPaddingMask?: Tensor | null;
}

/**
 * softmax(q k^T * scale + mask) v for q, k, v [B, heads, N, d] (scale default d^-0.5, applied to q first as
 * MultiheadAttention does). A query whose every key is masked gets NaN, as in PyTorch.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  o: AttentionMasks & { scale?: number } = {},
): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new RangeError(
      `scaledDotProductAttention(): expected q, k, v [B, heads, N, d], got [${q.shape}], [${k.shape}], [${v.shape}]`,
    );
  }
  return scope(() => {
    const scale = o.scale ?? (q.shape[3] as number) ** -0.5;
    let scores = q.mul(scale).matmul(k.transpose(-2, -1));
    const mask = o.mask;
    if (mask) scores = mask.dtype === 'bool' ? scores.maskedFill(mask, -Infinity) : scores.add(mask);
    const padding = o.keyPaddingMask;
    if (padding) {
      const [b, n] = [k.shape[0] as number, k.shape[2] as number];
      if (padding.dtype !== 'bool' || padding.shape.join() !== `${b},${n}`) {
        throw new RangeError(`keyPaddingMask: expected bool [${b}, ${n}], got ${padding.dtype} [${padding.shape}]`);
      }
      scores = scores.maskedFill(padding.view(b, 1, 1, n), -Infinity);
    }
    return F.softmax(scores, -1).matmul(v);
  });
}

/**
 * Self-attention over packed projections qkv [B, N, 3D] (q, k, v in that order, each D = heads x d):
 * the heads' outputs concatenated, [B, N, D], before the output projection.
 */
export function attendPacked(qkv: Tensor, heads: number, masks: AttentionMasks = {}): Tensor {
  return scope(() => {
    const [b, n, threeD] = qkv.shape as [number, number, number];
    const d = threeD / 3 / heads;
    const parts = qkv.view(b, n, 3, heads, d).permute(2, 0, 3, 1, 4);
    const out = scaledDotProductAttention(parts.select(0, 0), parts.select(0, 1), parts.select(0, 2), masks);
    return out.transpose(1, 2).reshape(b, n, heads * d);
  });
}

function checkHeads(dim: number, heads: number): void {
  if (!Number.isInteger(heads) || heads < 1 || dim % heads !== 0) {
    throw new RangeError(`attention: ${dim} features do not split into ${heads} heads`);
  }
}

function checkTokens(x: Tensor, dim: number, who: string): void {
  if (x.rank !== 3 || x.shape[2] !== dim) {
    throw new RangeError(`${who}: expected tokens [B, N, ${dim}], got [${x.shape.join(', ')}]`);
  }
}

/**
 * torch.nn.MultiheadAttention(dim, heads) used as self-attention, batch first: parameters in_proj_weight
 * [3D, D], in_proj_bias [3D], out_proj.weight [D, D], out_proj.bias [D]; initialised as PyTorch
 * (xavier_uniform_ in_proj, zero biases).
 */
export class MultiheadSelfAttention extends Module {
  readonly dim: number;
  readonly heads: number;
  readonly #outProj: Linear;

  constructor(dim: number, heads: number, o: InitOptions = {}) {
    super();
    checkHeads(dim, heads);
    this.dim = dim;
    this.heads = heads;
    this.registerParameter('in_proj_weight', xavierUniform([3 * dim, dim], o));
    this.registerParameter('in_proj_bias', defaultBias(3 * dim, 0, o));
    this.#outProj = this.registerModule('out_proj', new Linear(dim, dim, o));
    const bias = this.#outProj.bias;
    if (!o.uninitialised && bias) noGrad(() => bias.zero_());
  }

  forward(x: Tensor, masks: AttentionMasks = {}): Tensor {
    checkTokens(x, this.dim, 'MultiheadSelfAttention');
    return scope(() => {
      const qkv = F.linear(x, this.param('in_proj_weight'), this.param('in_proj_bias'));
      return this.#outProj.forward(attendPacked(qkv, this.heads, masks));
    });
  }
}

/** timm's Attention (DINO, DINOv2): qkv = Linear(D, 3D), proj = Linear(D, D), both with bias. */
export class QkvSelfAttention extends Module {
  readonly dim: number;
  readonly heads: number;
  readonly #qkv: Linear;
  readonly #proj: Linear;

  constructor(dim: number, heads: number, o: InitOptions = {}) {
    super();
    checkHeads(dim, heads);
    this.dim = dim;
    this.heads = heads;
    this.#qkv = this.registerModule('qkv', vitLinear(dim, 3 * dim, o));
    this.#proj = this.registerModule('proj', vitLinear(dim, dim, o));
  }

  forward(x: Tensor, masks: AttentionMasks = {}): Tensor {
    checkTokens(x, this.dim, 'QkvSelfAttention');
    return scope(() => this.#proj.forward(attendPacked(this.#qkv.forward(x), this.heads, masks)));
  }
}

/** A Linear initialised as timm's ViTs: weight trunc_normal_(std 0.02), bias 0. */
export function vitLinear(inFeatures: number, outFeatures: number, o: InitOptions = {}): Linear {
  const layer = new Linear(inFeatures, outFeatures, { ...o, uninitialised: true });
  if (!o.uninitialised) {
    const w = truncNormal([outFeatures, inFeatures], 0.02, o);
    noGrad(() => {
      layer.weight.copy_(w);
      layer.bias?.zero_();
    });
    w.dispose();
  }
  return layer;
}
