// The ViT of DINO (Caron et al. 2021, facebookresearch/dino vision_transformer.py) and DINOv2
// (facebookresearch/dinov2 DinoVisionTransformer), in their state-dict layout: cls_token, pos_embed,
// register_tokens (DINOv2 with registers), mask_token (DINOv2), patch_embed.proj, blocks.<i> (norm1,
// attn.qkv, attn.proj, ls1.gamma, norm2, mlp.fc1, mlp.fc2, ls2.gamma; LayerScale in DINOv2 only), norm.
// Images of any multiple of the patch size: when the patch grid differs from the one the position
// embeddings were made for, they are interpolated bicubically as the reference does (scale factors with
// its 0.1 offset and no antialiasing; DINOv2 with registers: the output size, antialiased).
// The backbone's features are the class token after the final norm (x_norm_clstoken).
import { cat, F, scope, type Tensor, zeros } from '../tensor/index.js';
import { Backbone } from './backbone.js';
import { Conv2d } from './conv.js';
import { type InitOptions, normalTensor, truncNormal } from './init.js';
import { IMAGENET_INPUT, type InputSpec } from './input-spec.js';
import { LayerNorm } from './layernorm.js';
import { Module } from './module.js';
import { Sequential } from './sequential.js';
import { TransformerBlock } from './transformer-block.js';
import { patchGrid, patchTokens, runBlocks, tokenMap } from './vit-tokens.js';

export interface PosEmbedInterpolation {
  /** Added to the target grid before the scale factor is taken (DINO's "historical kludge"); 0: by size. */
  offset: number;
  antialias: boolean;
}

export interface DinoVisionTransformerOptions extends InitOptions {
  /** The image size the position embeddings are made for (DINO 224, DINOv2 518). */
  imgSize: number;
  patchSize: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio?: number;
  /** DINOv2's LayerScale with this initial value (the hub: 1.0); absent: none (DINO). */
  layerScale?: number;
  /** Register tokens after the class token (DINOv2 _reg: 4). */
  registers?: number;
  /** DINOv2 has a (forward-unused) mask_token parameter in its state dict. */
  maskToken?: boolean;
  interpolation?: PosEmbedInterpolation;
  input?: InputSpec;
}

class PatchEmbed extends Module {
  readonly proj: Conv2d;
  constructor(patch: number, dim: number, o: InitOptions) {
    super();
    this.proj = this.registerModule('proj', new Conv2d(3, dim, patch, { ...o, stride: patch }));
  }
  forward(x: Tensor): Tensor {
    return scope(() => patchTokens(this.proj.forward(x)));
  }
}

/**
 * Position embeddings [1, 1 + M*M, D] for a gh x gw grid: the class position kept, the M x M patch
 * positions resized as DINO's interpolate_pos_encoding (returned unchanged for an M x M grid).
 */
export function interpolatePosEmbed(pos: Tensor, grid: [number, number], how: PosEmbedInterpolation): Tensor {
  const [, t, d] = pos.shape as [number, number, number];
  const m = Math.round(Math.sqrt(t - 1));
  if (m * m !== t - 1) throw new RangeError(`pos_embed: ${t - 1} patch positions are not a square grid`);
  const [gh, gw] = grid;
  if (gh === m && gw === m) return pos;
  return scope(() => {
    const patches = pos
      .narrow(1, 1, t - 1)
      .reshape(1, m, m, d)
      .permute(0, 3, 1, 2);
    const resized = F.interpolateBicubic(patches, {
      size: [gh, gw],
      antialias: how.antialias,
      ...(how.offset ? { scaleFactor: [(gh + how.offset) / m, (gw + how.offset) / m] as [number, number] } : {}),
    });
    return cat([pos.narrow(1, 0, 1), resized.permute(0, 2, 3, 1).reshape(1, gh * gw, d)], 1);
  });
}

export class DinoVisionTransformer extends Backbone {
  readonly width: number;
  readonly input: InputSpec;
  readonly headPrefix = 'head';
  readonly patchSize: number;
  readonly registers: number;
  readonly interpolation: PosEmbedInterpolation;
  readonly #patchEmbed: PatchEmbed;
  readonly #blocks: Sequential;
  readonly #norm: LayerNorm;

  constructor(o: DinoVisionTransformerOptions) {
    super();
    const grid = Math.floor(o.imgSize / o.patchSize);
    this.patchSize = o.patchSize;
    this.width = o.embedDim;
    this.input = o.input ?? IMAGENET_INPUT;
    this.registers = o.registers ?? 0;
    this.interpolation = o.interpolation ?? { offset: 0.1, antialias: false };
    const init: InitOptions = { generator: o.generator, uninitialised: o.uninitialised };
    const dim = o.embedDim;
    // DINO draws cls_token from trunc_normal_(0.02), DINOv2 from normal_(1e-6).
    const v2 = o.layerScale !== undefined;
    this.registerParameter(
      'cls_token',
      v2 ? normalTensor([1, 1, dim], 1e-6, init) : truncNormal([1, 1, dim], 0.02, init),
    );
    this.registerParameter('pos_embed', truncNormal([1, grid * grid + 1, dim], 0.02, init));
    if (this.registers > 0) {
      this.registerParameter('register_tokens', normalTensor([1, this.registers, dim], 1e-6, init));
    }
    if (o.maskToken) this.registerParameter('mask_token', zeros([1, dim]));
    this.#patchEmbed = this.registerModule('patch_embed', new PatchEmbed(o.patchSize, dim, init));
    const mlpDim = Math.floor(dim * (o.mlpRatio ?? 4));
    this.#blocks = this.registerModule(
      'blocks',
      new Sequential(
        ...Array.from(
          { length: o.depth },
          () =>
            new TransformerBlock({
              layout: 'timm',
              dim,
              heads: o.numHeads,
              mlpDim,
              eps: 1e-6,
              ...(o.layerScale !== undefined ? { layerScale: o.layerScale } : {}),
              ...init,
            }),
        ),
      ),
    );
    this.#norm = this.registerModule('norm', new LayerNorm(dim, { eps: 1e-6 }));
  }

  /** The tokens [N, 1 + registers + patches, D] after the blocks, before the final norm. */
  #encode(x: Tensor): { tokens: Tensor; grid: [number, number] } {
    this.checkInput(x);
    const grid = patchGrid(x, this.patchSize, 'DinoVisionTransformer');
    const tokens = scope(() => {
      const n = x.shape[0] as number;
      const patches = this.#patchEmbed.forward(x);
      const cls = this.param('cls_token').expand(n, -1, -1);
      let h = cat([cls, patches], 1).add(interpolatePosEmbed(this.param('pos_embed'), grid, this.interpolation));
      if (this.registers > 0) {
        const t = h.shape[1] as number;
        const reg = this.param('register_tokens').expand(n, -1, -1);
        h = cat([h.narrow(1, 0, 1), reg, h.narrow(1, 1, t - 1)], 1);
      }
      return runBlocks(this.#blocks, h);
    });
    return { tokens, grid };
  }

  featureMap(x: Tensor): Tensor {
    return scope(() => {
      const { tokens, grid } = this.#encode(x);
      return tokenMap(this.#norm.forward(tokens), 1 + this.registers, grid);
    });
  }

  /** The class token after the final norm, [N, embedDim]. */
  features(x: Tensor): Tensor {
    return scope(() => this.#norm.forward(this.#encode(x).tokens.select(1, 0)));
  }

  forward(x: Tensor): Tensor {
    return this.features(x);
  }
}
