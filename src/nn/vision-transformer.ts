// torchvision's VisionTransformer (vit_b_16, vit_l_16) in its exact layout: conv_proj, class_token,
// encoder.pos_embedding, encoder.layers.encoder_layer_<i> (ln_1, self_attention, ln_2, mlp.0, mlp.3),
// encoder.ln, heads.head. torchvision before 0.14 (and its published vit_b_16-c867db91.pth) names the MLP's
// layers mlp.linear_1 / mlp.linear_2: adaptWeights renames them, as torchvision's own loader does.
// The backbone's features are the class token after encoder.ln (the input of heads). Images must be the
// size the position embeddings were made for (torchvision interpolates nothing either).
import { cat, noGrad, scope, type Tensor, zeros } from '../tensor/index.js';
import { Backbone } from './backbone.js';
import { Conv2d } from './conv.js';
import { type InitOptions, normalTensor, truncNormal } from './init.js';
import { IMAGENET_INPUT, type InputSpec } from './input-spec.js';
import { LayerNorm } from './layernorm.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { Sequential } from './sequential.js';
import { TransformerBlock } from './transformer-block.js';
import { checkFixedSize, patchTokens, runBlocks, tokenMap } from './vit-tokens.js';

export interface VisionTransformerOptions extends InitOptions {
  imageSize: number;
  patchSize: number;
  numLayers: number;
  numHeads: number;
  hiddenDim: number;
  mlpDim: number;
  /** Classes of heads.head; null builds no head (default 1000). */
  numClasses?: number | null;
  input?: InputSpec;
}

/** torchvision's Encoder: pos_embedding, then the blocks, then ln. */
class Encoder extends Module {
  readonly layers: Sequential;
  readonly ln: LayerNorm;

  constructor(seqLength: number, o: VisionTransformerOptions) {
    super();
    this.registerParameter('pos_embedding', normalTensor([1, seqLength, o.hiddenDim], 0.02, o));
    const blocks = Array.from({ length: o.numLayers }, (_, i): [string, Module] => [
      `encoder_layer_${i}`,
      new TransformerBlock({
        layout: 'torchvision',
        dim: o.hiddenDim,
        heads: o.numHeads,
        mlpDim: o.mlpDim,
        eps: 1e-6,
        generator: o.generator,
        uninitialised: o.uninitialised,
      }),
    ]);
    this.layers = this.registerModule('layers', Sequential.named(blocks));
    this.ln = this.registerModule('ln', new LayerNorm(o.hiddenDim, { eps: 1e-6 }));
  }

  get posEmbedding(): Tensor {
    return this.param('pos_embedding');
  }

  /** The tokens after the blocks, before ln. */
  forward(tokens: Tensor): Tensor {
    return scope(() => runBlocks(this.layers, tokens.add(this.posEmbedding)));
  }
}

export class VisionTransformer extends Backbone {
  readonly width: number;
  readonly input: InputSpec;
  readonly headPrefix = 'heads';
  readonly imageSize: number;
  readonly patchSize: number;
  readonly #convProj: Conv2d;
  readonly #encoder: Encoder;
  readonly #head: Linear | null;

  constructor(o: VisionTransformerOptions) {
    super();
    if (o.imageSize % o.patchSize !== 0) {
      throw new RangeError(`VisionTransformer: image size ${o.imageSize} is not a multiple of patch ${o.patchSize}`);
    }
    this.imageSize = o.imageSize;
    this.patchSize = o.patchSize;
    this.width = o.hiddenDim;
    this.input = o.input ?? IMAGENET_INPUT;
    const init: InitOptions = { generator: o.generator, uninitialised: true };
    const p = o.patchSize;
    this.#convProj = this.registerModule('conv_proj', new Conv2d(3, o.hiddenDim, p, { ...init, stride: p }));
    this.registerParameter('class_token', zeros([1, 1, o.hiddenDim]));
    this.#encoder = this.registerModule('encoder', new Encoder((o.imageSize / p) ** 2 + 1, o));
    const numClasses = o.numClasses === undefined ? 1000 : o.numClasses;
    this.#head = numClasses === null ? null : new Linear(o.hiddenDim, numClasses, init);
    if (this.#head) this.registerModule('heads', Sequential.named([['head', this.#head]]));
    if (!o.uninitialised) {
      // torchvision: conv_proj trunc_normal_(std sqrt(1 / fan_in)) and bias 0; the head all zeros.
      const w = truncNormal(this.#convProj.weight.shape, Math.sqrt(1 / (3 * p * p)), o);
      noGrad(() => {
        this.#convProj.weight.copy_(w);
        this.#convProj.bias?.zero_();
        this.#head?.weight.zero_();
        this.#head?.bias?.zero_();
      });
      w.dispose();
    }
  }

  /** The encoder's tokens [N, 1 + patches, D] before encoder.ln. */
  #encode(x: Tensor): Tensor {
    this.checkInput(x);
    checkFixedSize(x, this.imageSize, this.patchSize, 'VisionTransformer');
    return scope(() => {
      const patches = patchTokens(this.#convProj.forward(x));
      const cls = this.param('class_token').expand(x.shape[0] as number, -1, -1);
      return this.#encoder.forward(cat([cls, patches], 1));
    });
  }

  featureMap(x: Tensor): Tensor {
    const grid = this.imageSize / this.patchSize;
    return scope(() => tokenMap(this.#encoder.ln.forward(this.#encode(x)), 1, [grid, grid]));
  }

  /** The class token after encoder.ln, [N, hiddenDim]. */
  features(x: Tensor): Tensor {
    return scope(() => this.#encoder.ln.forward(this.#encode(x).select(1, 0)));
  }

  /** Class logits through heads.head (the features when built without a head). */
  forward(x: Tensor): Tensor {
    const head = this.#head;
    return head ? scope(() => head.forward(this.features(x))) : this.features(x);
  }

  /** The published vit_b_16-c867db91.pth's mlp.linear_1 / mlp.linear_2 become mlp.0 / mlp.3. */
  override adaptWeights(stateDict: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [key, value] of Object.entries(stateDict)) {
      out[key.replace(/\.mlp\.linear_([12])\./, (_, i: string) => `.mlp.${i === '1' ? 0 : 3}.`)] = value;
    }
    return out;
  }
}
