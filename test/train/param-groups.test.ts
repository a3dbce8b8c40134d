// The backbone's parameter groups (src/train/param-groups.ts) on tiny ViTs of the three layouts and a
// ResNet: which parameters get weight decay under AdamW (weights, not norms, biases, LayerScale, tokens or
// positions) and each one's lr multiplier under a layer decay d (d^(L + 1) embeddings, d^(L - i) block i,
// 1 after the blocks), by name and by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backbone } from '../../src/nn/backbone.js';
import { ClipVisionTransformer, DinoVisionTransformer, resnet18, VisionTransformer } from '../../src/nn/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import { backboneGroups, vitLayerOf } from '../../src/train/param-groups.js';

/** Each parameter's [lrMult, weightDecay] by name. */
function settings(b: Backbone, layerDecay: number, decayMask = true): Map<string, [number, number]> {
  const groups = backboneGroups(b, { weightDecay: 0.05, decayMask, layerDecay });
  const of = new Map<Tensor, [number, number]>();
  for (const g of groups) for (const p of g.params) of.set(p, [g.lrMult ?? 1, g.weightDecay ?? -1]);
  const out = new Map(b.namedParameters().map(([n, p]) => [n, of.get(p) as [number, number]]));
  assert.equal(
    groups.reduce((n, g) => n + g.params.length, 0),
    out.size,
    'every parameter in exactly one group',
  );
  return out;
}

test('DINOv2 layout (registers, LayerScale), depth 2, d = 0.5', () => {
  const vit = new DinoVisionTransformer({
    imgSize: 28,
    patchSize: 14,
    embedDim: 8,
    depth: 2,
    numHeads: 2,
    layerScale: 1,
    registers: 4,
    maskToken: true,
  });
  const s = settings(vit, 0.5);
  const want: Record<string, [number, number]> = {
    cls_token: [0.125, 0],
    pos_embed: [0.125, 0],
    register_tokens: [0.125, 0],
    mask_token: [0.125, 0],
    'patch_embed.proj.weight': [0.125, 0.05],
    'patch_embed.proj.bias': [0.125, 0],
    'blocks.0.norm1.weight': [0.25, 0],
    'blocks.0.attn.qkv.weight': [0.25, 0.05],
    'blocks.0.attn.qkv.bias': [0.25, 0],
    'blocks.0.ls1.gamma': [0.25, 0],
    'blocks.1.mlp.fc2.weight': [0.5, 0.05],
    'norm.weight': [1, 0],
  };
  for (const [name, value] of Object.entries(want)) assert.deepEqual(s.get(name), value, name);
  vit.dispose();
});

test("torchvision's and CLIP's layouts: their block and final names; CLIP's proj decays at lr x 1", () => {
  const tv = new VisionTransformer({
    imageSize: 16,
    patchSize: 8,
    numLayers: 3,
    numHeads: 2,
    hiddenDim: 8,
    mlpDim: 16,
    numClasses: null,
  });
  const t = settings(tv, 0.8);
  assert.deepEqual(t.get('class_token'), [0.8 ** 4, 0]);
  assert.deepEqual(t.get('encoder.pos_embedding'), [0.8 ** 4, 0]);
  assert.deepEqual(t.get('conv_proj.weight'), [0.8 ** 4, 0.05]);
  assert.deepEqual(t.get('encoder.layers.encoder_layer_2.self_attention.in_proj_weight'), [0.8, 0.05]);
  assert.deepEqual(t.get('encoder.layers.encoder_layer_0.mlp.0.bias'), [0.8 ** 3, 0]);
  assert.deepEqual(t.get('encoder.ln.bias'), [1, 0]);
  tv.dispose();
  const clip = new ClipVisionTransformer({
    inputResolution: 16,
    patchSize: 8,
    width: 8,
    layers: 2,
    heads: 2,
    outputDim: 4,
  });
  const c = settings(clip, 0.5);
  assert.deepEqual(c.get('class_embedding'), [0.125, 0]);
  assert.deepEqual(c.get('positional_embedding'), [0.125, 0]);
  assert.deepEqual(c.get('ln_pre.weight'), [0.125, 0]);
  assert.deepEqual(c.get('transformer.resblocks.1.attn.out_proj.weight'), [0.5, 0.05]);
  assert.deepEqual(c.get('ln_post.weight'), [1, 0]);
  assert.deepEqual(c.get('proj'), [1, 0.05]);
  clip.dispose();
  assert.equal(vitLayerOf('blocks.11.norm1.weight', 12), 12);
  assert.equal(vitLayerOf('norm.bias', 12), 13);
});

test('a ResNet: the mask exempts BatchNorm and nothing else; without it one group; no layer decay', () => {
  const r = resnet18();
  const s = settings(r, 1);
  assert.deepEqual(s.get('conv1.weight'), [1, 0.05]);
  assert.deepEqual(s.get('bn1.weight'), [1, 0]);
  assert.deepEqual(s.get('layer4.1.bn2.bias'), [1, 0]);
  assert.equal(backboneGroups(r, { weightDecay: 0.05, decayMask: false, layerDecay: 1 }).length, 1);
  assert.throws(
    () => backboneGroups(r, { weightDecay: 0.05, decayMask: true, layerDecay: 0.9 }),
    /the ResNet backbone has no numbered blocks/,
  );
  r.dispose();
});
