// The image tower of OpenAI's CLIP (openai/CLIP model.py VisionTransformer) in its state-dict layout:
// conv1 (no bias), class_embedding, positional_embedding, ln_pre, transformer.resblocks.<i> (attn as
// torch.nn.MultiheadAttention, ln_1, mlp.c_fc, mlp.c_proj with QuickGELU, ln_2), ln_post, proj.
// A whole CLIP state dict (OpenAI's, or open_clip's for the OpenAI architectures) holds it under
// visual.*: adaptWeights keeps those keys, without the prefix, and drops the text tower.
// The features are ln_post(class token) @ proj, CLIP's image embedding. Images must be the model's
// input resolution (CLIP interpolates nothing).
import { cat, scope, type Tensor } from '../tensor/index.js';
import { Backbone } from './backbone.js';
import { Conv2d } from './conv.js';
import { type InitOptions, normalTensor } from './init.js';
import { CLIP_INPUT, type InputSpec } from './input-spec.js';
import { LayerNorm } from './layernorm.js';
import { Module } from './module.js';
import { Sequential } from './sequential.js';
import { TransformerBlock } from './transformer-block.js';
import { checkFixedSize, patchTokens, runBlocks, tokenMap } from './vit-tokens.js';

export interface ClipVisionTransformerOptions extends InitOptions {
  inputResolution: number;
  patchSize: number;
  width: number;
  layers: number;
  heads: number;
  /** The image embedding's size (proj's columns). */
  outputDim: number;
  input?: InputSpec;
}

/** CLIP's Transformer: its blocks under `resblocks`. */
class ClipTransformer extends Module {
  readonly resblocks: Sequential;
  constructor(o: ClipVisionTransformerOptions) {
    super();
    const blocks = Array.from(
      { length: o.layers },
      () =>
        new TransformerBlock({
          layout: 'clip',
          dim: o.width,
          heads: o.heads,
          mlpDim: 4 * o.width,
          eps: 1e-5,
          generator: o.generator,
          uninitialised: o.uninitialised,
        }),
    );
    this.resblocks = this.registerModule('resblocks', new Sequential(...blocks));
  }
  forward(tokens: Tensor): Tensor {
    return runBlocks(this.resblocks, tokens);
  }
}

const VISUAL = 'visual.';

export class ClipVisionTransformer extends Backbone {
  readonly width: number;
  readonly input: InputSpec;
  readonly headPrefix = null;
  readonly inputResolution: number;
  readonly patchSize: number;
  readonly #conv1: Conv2d;
  readonly #lnPre: LayerNorm;
  readonly #transformer: ClipTransformer;
  readonly #lnPost: LayerNorm;

  constructor(o: ClipVisionTransformerOptions) {
    super();
    this.inputResolution = o.inputResolution;
    this.patchSize = o.patchSize;
    this.width = o.outputDim;
    this.input = o.input ?? CLIP_INPUT;
    const init: InitOptions = { generator: o.generator, uninitialised: o.uninitialised };
    const p = o.patchSize;
    this.#conv1 = this.registerModule('conv1', new Conv2d(3, o.width, p, { ...init, stride: p, bias: false }));
    // CLIP: scale * randn for the three, scale = width^-0.5.
    const scale = o.width ** -0.5;
    const grid = Math.floor(o.inputResolution / p);
    this.registerParameter('class_embedding', normalTensor([o.width], scale, init));
    this.registerParameter('positional_embedding', normalTensor([grid * grid + 1, o.width], scale, init));
    this.#lnPre = this.registerModule('ln_pre', new LayerNorm(o.width));
    this.#transformer = this.registerModule('transformer', new ClipTransformer(o));
    this.#lnPost = this.registerModule('ln_post', new LayerNorm(o.width));
    this.registerParameter('proj', normalTensor([o.width, o.outputDim], scale, init));
  }

  /** The tokens [N, 1 + patches, width] after the blocks (before ln_post). */
  #encode(x: Tensor): Tensor {
    this.checkInput(x);
    checkFixedSize(x, this.inputResolution, this.patchSize, 'ClipVisionTransformer');
    return scope(() => {
      const patches = patchTokens(this.#conv1.forward(x));
      const n = x.shape[0] as number;
      const width = patches.shape[2] as number;
      const cls = this.param('class_embedding').view(1, 1, width).expand(n, -1, -1);
      const tokens = cat([cls, patches], 1).add(this.param('positional_embedding'));
      return this.#transformer.forward(this.#lnPre.forward(tokens));
    });
  }

  /** Every token through ln_post and proj, as a map [N, outputDim, grid, grid]. */
  featureMap(x: Tensor): Tensor {
    const grid = this.inputResolution / this.patchSize;
    return scope(() => tokenMap(this.#lnPost.forward(this.#encode(x)).matmul(this.param('proj')), 1, [grid, grid]));
  }

  /** CLIP's image embedding: ln_post(class token) @ proj, [N, outputDim]. */
  features(x: Tensor): Tensor {
    return scope(() => this.#lnPost.forward(this.#encode(x).select(1, 0)).matmul(this.param('proj')));
  }

  forward(x: Tensor): Tensor {
    return this.features(x);
  }

  /** A whole CLIP state dict (visual.* and the text tower): the visual.* keys without the prefix. */
  override adaptWeights(stateDict: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    const keys = Object.keys(stateDict);
    if (!keys.some((k) => k.startsWith(VISUAL))) return { ...stateDict };
    const out: Record<string, Tensor> = {};
    for (const key of keys) if (key.startsWith(VISUAL)) out[key.slice(VISUAL.length)] = stateDict[key] as Tensor;
    return out;
  }
}
