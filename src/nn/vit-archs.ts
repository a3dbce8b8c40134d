// The published configurations of the ViT architectures (--arch), each with its own input pipeline:
// torchvision's vit_b_16 / vit_l_16, DINO's ViT-S/16 and ViT-B/16, DINOv2's ViT-S/B/L/14 (built for 518 px
// as the hub builds them, LayerScale 1.0; the _reg variants with 4 registers and the hub's antialiased,
// offset-free position interpolation), and CLIP's ViT-B/32 and ViT-B/16 image towers.
import type { Backbone } from './backbone.js';
import { ClipVisionTransformer } from './clip-vit.js';
import { DinoVisionTransformer } from './dino-vit.js';
import type { InitOptions } from './init.js';
import {
  CLIP_INPUT,
  DINO_INPUT,
  type InputSpec,
  TORCHVISION_VIT_INPUT,
  TORCHVISION_VIT_L_INPUT,
} from './input-spec.js';
import { VisionTransformer } from './vision-transformer.js';

export const VIT_ARCHS = [
  'vit_b_16',
  'vit_l_16',
  'dino_vits16',
  'dino_vitb16',
  'dinov2_vits14',
  'dinov2_vitb14',
  'dinov2_vitl14',
  'dinov2_vits14_reg',
  'dinov2_vitb14_reg',
  'dinov2_vitl14_reg',
  'clip_vitb32',
  'clip_vitb16',
] as const;
export type VitArch = (typeof VIT_ARCHS)[number];

export function isVitArch(name: string): name is VitArch {
  return (VIT_ARCHS as readonly string[]).includes(name);
}

type Family = 'torchvision' | 'dino' | 'dinov2' | 'clip';
interface VitConfig {
  family: Family;
  patch: number;
  dim: number;
  depth: number;
  heads: number;
  registers?: number;
  /** CLIP's embedding size. */
  outputDim?: number;
  input: InputSpec;
}

const SIZES = {
  S: { dim: 384, depth: 12, heads: 6 },
  B: { dim: 768, depth: 12, heads: 12 },
  L: { dim: 1024, depth: 24, heads: 16 },
};

export const VIT_CONFIGS: Readonly<Record<VitArch, VitConfig>> = {
  vit_b_16: { family: 'torchvision', patch: 16, ...SIZES.B, input: TORCHVISION_VIT_INPUT },
  vit_l_16: { family: 'torchvision', patch: 16, ...SIZES.L, input: TORCHVISION_VIT_L_INPUT },
  dino_vits16: { family: 'dino', patch: 16, ...SIZES.S, input: DINO_INPUT },
  dino_vitb16: { family: 'dino', patch: 16, ...SIZES.B, input: DINO_INPUT },
  dinov2_vits14: { family: 'dinov2', patch: 14, ...SIZES.S, input: DINO_INPUT },
  dinov2_vitb14: { family: 'dinov2', patch: 14, ...SIZES.B, input: DINO_INPUT },
  dinov2_vitl14: { family: 'dinov2', patch: 14, ...SIZES.L, input: DINO_INPUT },
  dinov2_vits14_reg: { family: 'dinov2', patch: 14, ...SIZES.S, registers: 4, input: DINO_INPUT },
  dinov2_vitb14_reg: { family: 'dinov2', patch: 14, ...SIZES.B, registers: 4, input: DINO_INPUT },
  dinov2_vitl14_reg: { family: 'dinov2', patch: 14, ...SIZES.L, registers: 4, input: DINO_INPUT },
  clip_vitb32: { family: 'clip', patch: 32, ...SIZES.B, outputDim: 512, input: CLIP_INPUT },
  clip_vitb16: { family: 'clip', patch: 16, ...SIZES.B, outputDim: 512, input: CLIP_INPUT },
};

/** A ViT backbone of a published configuration, without its classification head. */
export function createVitBackbone(arch: VitArch, o: InitOptions = {}): Backbone {
  const c = VIT_CONFIGS[arch];
  switch (c.family) {
    case 'torchvision':
      return new VisionTransformer({
        ...o,
        imageSize: 224,
        patchSize: c.patch,
        numLayers: c.depth,
        numHeads: c.heads,
        hiddenDim: c.dim,
        mlpDim: 4 * c.dim,
        numClasses: null,
        input: c.input,
      });
    case 'dino':
      return new DinoVisionTransformer({
        ...o,
        imgSize: 224,
        patchSize: c.patch,
        embedDim: c.dim,
        depth: c.depth,
        numHeads: c.heads,
        interpolation: { offset: 0.1, antialias: false },
        input: c.input,
      });
    case 'dinov2': {
      const registers = c.registers ?? 0;
      return new DinoVisionTransformer({
        ...o,
        imgSize: 518,
        patchSize: c.patch,
        embedDim: c.dim,
        depth: c.depth,
        numHeads: c.heads,
        layerScale: 1.0,
        registers,
        maskToken: true,
        interpolation: registers > 0 ? { offset: 0, antialias: true } : { offset: 0.1, antialias: false },
        input: c.input,
      });
    }
    case 'clip':
      return new ClipVisionTransformer({
        ...o,
        inputResolution: 224,
        patchSize: c.patch,
        width: c.dim,
        layers: c.depth,
        heads: c.heads,
        outputDim: c.outputDim ?? c.dim,
        input: c.input,
      });
  }
}
