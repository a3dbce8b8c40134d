// The pre-norm transformer encoder block of every ViT here:
//   x = x + ls1(attn(norm1(x)));  x = x + ls2(mlp(norm2(x)))
// (ls1/ls2: DINOv2's LayerScale, absent elsewhere), in each publisher's layout: its names, attention
// weights, MLP activation and the order its modules register in (the order of its state_dict keys).
import { scope, type Tensor } from '../tensor/index.js';
import { type AttentionMasks, MultiheadSelfAttention, QkvSelfAttention } from './attention.js';
import { type Activation, FeedForward } from './feed-forward.js';
import type { InitOptions } from './init.js';
import { LayerScale } from './layer-scale.js';
import { LayerNorm } from './layernorm.js';
import { Module } from './module.js';

export type BlockLayout = 'torchvision' | 'timm' | 'clip';

interface Layout {
  names: { norm1: string; attn: string; norm2: string; mlp: string; ls1: string; ls2: string };
  mlpNames: readonly [string, string];
  attention: 'mha' | 'qkv';
  activation: Activation;
  mlpInit: 'timm' | 'xavier' | 'default';
  /** Registration order (PyTorch's attribute order in __init__). */
  order: readonly ('norm1' | 'attn' | 'ls1' | 'norm2' | 'mlp' | 'ls2')[];
}

const LAYOUTS: Record<BlockLayout, Layout> = {
  // torchvision.models.vision_transformer.EncoderBlock
  torchvision: {
    names: { norm1: 'ln_1', attn: 'self_attention', norm2: 'ln_2', mlp: 'mlp', ls1: 'ls1', ls2: 'ls2' },
    mlpNames: ['0', '3'],
    attention: 'mha',
    activation: 'gelu',
    mlpInit: 'xavier',
    order: ['norm1', 'attn', 'norm2', 'mlp'],
  },
  // DINO's and DINOv2's Block (timm's)
  timm: {
    names: { norm1: 'norm1', attn: 'attn', norm2: 'norm2', mlp: 'mlp', ls1: 'ls1', ls2: 'ls2' },
    mlpNames: ['fc1', 'fc2'],
    attention: 'qkv',
    activation: 'gelu',
    mlpInit: 'timm',
    order: ['norm1', 'attn', 'ls1', 'norm2', 'mlp', 'ls2'],
  },
  // CLIP's ResidualAttentionBlock
  clip: {
    names: { norm1: 'ln_1', attn: 'attn', norm2: 'ln_2', mlp: 'mlp', ls1: 'ls1', ls2: 'ls2' },
    mlpNames: ['c_fc', 'c_proj'],
    attention: 'mha',
    activation: 'quickgelu',
    mlpInit: 'default',
    order: ['attn', 'norm1', 'mlp', 'norm2'],
  },
};

export interface TransformerBlockOptions extends InitOptions {
  layout: BlockLayout;
  dim: number;
  heads: number;
  mlpDim: number;
  /** LayerNorm eps (1e-6 for torchvision, DINO and DINOv2; 1e-5 for CLIP). */
  eps: number;
  /** DINOv2's LayerScale with this initial value (timm layout only); absent: none. */
  layerScale?: number;
}

export class TransformerBlock extends Module {
  readonly layout: BlockLayout;
  readonly #norm1: LayerNorm;
  readonly #attn: MultiheadSelfAttention | QkvSelfAttention;
  readonly #norm2: LayerNorm;
  readonly #mlp: FeedForward;
  readonly #ls1: LayerScale | null = null;
  readonly #ls2: LayerScale | null = null;

  constructor(o: TransformerBlockOptions) {
    super();
    const layout = LAYOUTS[o.layout];
    if (!layout) throw new Error(`unknown transformer block layout '${o.layout as string}'`);
    if (o.layerScale !== undefined && o.layout !== 'timm') throw new Error('LayerScale is a timm-layout option');
    this.layout = o.layout;
    const init: InitOptions = { generator: o.generator, uninitialised: o.uninitialised };
    const made = {
      norm1: new LayerNorm(o.dim, { eps: o.eps }),
      attn:
        layout.attention === 'mha'
          ? new MultiheadSelfAttention(o.dim, o.heads, init)
          : new QkvSelfAttention(o.dim, o.heads, init),
      ls1: o.layerScale === undefined ? null : new LayerScale(o.dim, o.layerScale),
      norm2: new LayerNorm(o.dim, { eps: o.eps }),
      mlp: new FeedForward(o.dim, o.mlpDim, {
        ...init,
        names: layout.mlpNames,
        activation: layout.activation,
        init: layout.mlpInit,
      }),
      ls2: o.layerScale === undefined ? null : new LayerScale(o.dim, o.layerScale),
    };
    for (const part of layout.order) {
      const m: Module | null = made[part];
      if (m) this.registerModule(layout.names[part], m);
    }
    this.#norm1 = made.norm1;
    this.#attn = made.attn;
    this.#norm2 = made.norm2;
    this.#mlp = made.mlp;
    this.#ls1 = made.ls1;
    this.#ls2 = made.ls2;
  }

  forward(x: Tensor, masks: AttentionMasks = {}): Tensor {
    return scope(() => {
      let h = this.#attn.forward(this.#norm1.forward(x), masks);
      if (this.#ls1) h = this.#ls1.forward(h);
      const mid = x.add(h);
      let m = this.#mlp.forward(this.#norm2.forward(mid));
      if (this.#ls2) m = this.#ls2.forward(m);
      return mid.add(m);
    });
  }
}
