// The backbone's parameter groups for the main phase: with AdamW, weight decay on weights only (as the
// ViTs' publishers train: no decay on norms, biases, position embeddings, class / register / mask tokens,
// LayerScale); with a layer decay d < 1 (ViTs), block i of L at lr * d^(L - i), the patch and position
// embeddings (layer 0) at d^(L + 1) and the final norm (and CLIP's proj) at 1, as BEiT / DINOv2 fine-tune.
// One group per (lr multiplier, weight decay) pair, in the order the parameters come.
import type { Backbone } from '../nn/backbone.js';
import type { Tensor } from '../tensor/index.js';
import type { ParamGroup } from './optim/optimizer.js';

const TOKEN_OR_POSITION =
  /(^|\.)(pos_embed|pos_embedding|positional_embedding|cls_token|class_token|class_embedding|register_tokens|mask_token)$/;

/** Parameters that get no weight decay: vectors (norms, biases, LayerScale) and the learnt tokens and positions. */
export function exemptFromDecay(name: string, p: Tensor): boolean {
  return p.rank <= 1 || TOKEN_OR_POSITION.test(name);
}

const BLOCK = /(?:encoder_layer_|(?:^|\.)blocks\.|resblocks\.)(\d+)\./;
// What comes after the blocks: torchvision's encoder.ln, DINO's norm, CLIP's ln_post and proj.
const AFTER_BLOCKS = /^(encoder\.ln\.|norm\.|ln_post\.|proj$)/;

/** The layer of a ViT parameter: 0 for the embeddings, i + 1 for block i, depth + 1 after the blocks. */
export function vitLayerOf(name: string, depth: number): number {
  const block = BLOCK.exec(name);
  if (block) return Number(block[1]) + 1;
  return AFTER_BLOCKS.test(name) ? depth + 1 : 0;
}

export interface BackboneGroupOptions {
  /** The optimiser's weight decay. */
  weightDecay: number;
  /** Exempt norms, biases, tokens and positions from it (AdamW). */
  decayMask: boolean;
  /** Layer-wise lr decay (1: none); below 1 only for ViTs, whose blocks are numbered. */
  layerDecay: number;
}

export function backboneGroups(backbone: Backbone, o: BackboneGroupOptions): ParamGroup[] {
  const named = backbone.namedParameters();
  const blocks = new Set(named.map(([n]) => BLOCK.exec(n)?.[1]).filter((b) => b !== undefined));
  const depth = blocks.size;
  if (o.layerDecay < 1 && depth === 0) {
    throw new RangeError(`layer decay: the ${backbone.constructor.name} backbone has no numbered blocks`);
  }
  const groups = new Map<string, ParamGroup & { lrMult: number; weightDecay: number }>();
  for (const [name, p] of named) {
    const lrMult = o.layerDecay < 1 ? o.layerDecay ** (depth + 1 - vitLayerOf(name, depth)) : 1;
    const weightDecay = o.decayMask && exemptFromDecay(name, p) ? 0 : o.weightDecay;
    const key = `${lrMult}/${weightDecay}`;
    const group = groups.get(key) ?? { params: [], lrMult, weightDecay };
    group.params.push(p);
    groups.set(key, group);
  }
  return [...groups.values()];
}
