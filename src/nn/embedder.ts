// The embedder (spec section 1): backbone -> global average pool -> LayerNorm without affine (eps 1e-5)
// -> Linear(width -> dim, no bias) only when dim != width -> L2 normalisation (x / max(||x||, 1e-12)).
// State-dict keys: backbone.<backbone keys> and remap.weight.
import { F, scope, type Tensor } from '../tensor/index.js';
import type { Backbone } from './backbone.js';
import { BnInception } from './bninception.js';
import type { InitOptions } from './init.js';
import { CAFFE_BGR_INPUT, GRAY28_INPUT, IMAGENET_INPUT, type InputSpec } from './input-spec.js';
import { LayerNorm } from './layernorm.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { ResNet } from './resnet.js';
import { SmallCnn } from './smallcnn.js';
import { StateDictError } from './state-dict-error.js';
import { createVitBackbone, isVitArch, VIT_ARCHS, VIT_CONFIGS } from './vit-archs.js';

export const ARCHS = [
  'resnet18',
  'resnet34',
  'resnet50',
  'resnet101',
  'bninception',
  'smallcnn',
  ...VIT_ARCHS,
] as const;
export type Arch = (typeof ARCHS)[number];

/** How an architecture wants its input pixels, without building it. */
export function archInput(arch: Arch): InputSpec {
  if (isVitArch(arch)) return VIT_CONFIGS[arch].input;
  if (arch === 'bninception') return CAFFE_BGR_INPUT;
  if (arch === 'smallcnn') return GRAY28_INPUT;
  return IMAGENET_INPUT;
}

export function isArch(name: string): name is Arch {
  return (ARCHS as readonly string[]).includes(name);
}

/** A backbone without its classification head. */
export function createBackbone(arch: Arch, o: InitOptions = {}): Backbone {
  switch (arch) {
    case 'resnet18':
      return new ResNet(18, { ...o, numClasses: null });
    case 'resnet34':
      return new ResNet(34, { ...o, numClasses: null });
    case 'resnet50':
      return new ResNet(50, { ...o, numClasses: null });
    case 'resnet101':
      return new ResNet(101, { ...o, numClasses: null });
    case 'bninception':
      return new BnInception({ ...o, numClasses: null });
    case 'smallcnn':
      return new SmallCnn(o);
    default:
      if (isVitArch(arch)) return createVitBackbone(arch, o);
      throw new Error(`unknown architecture '${arch as string}'; expected one of ${ARCHS.join(', ')}`);
  }
}

export interface EmbedderOptions extends InitOptions {
  /** ViT backbones only: allocate the backbone without drawing its initial weights (they are loaded next). */
  uninitialisedBackbone?: boolean;
  arch: Arch;
  /** Embedding size; equal to the backbone width (or omitted) for no remap layer. */
  dim?: number;
  /** The LayerNorm head before the remap (default true; false only for the paper's ablation). */
  layerNorm?: boolean;
}

export class Embedder extends Module {
  readonly arch: Arch;
  readonly dim: number;
  readonly backbone: Backbone;
  readonly remap: Linear | null;
  readonly #norm: LayerNorm | null;

  constructor(o: EmbedderOptions) {
    super();
    if (!isArch(o.arch)) {
      throw new Error(`unknown architecture '${o.arch as string}'; expected one of ${ARCHS.join(', ')}`);
    }
    this.arch = o.arch;
    this.backbone = this.registerModule(
      'backbone',
      createBackbone(o.arch, { generator: o.generator, uninitialised: o.uninitialisedBackbone }),
    );
    const width = this.backbone.width;
    const dim = o.dim ?? width;
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`embedding dim must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.#norm = o.layerNorm === false ? null : new LayerNorm(width, { elementwiseAffine: false, eps: 1e-5 });
    this.remap =
      dim === width
        ? null
        : this.registerModule('remap', new Linear(width, dim, { bias: false, generator: o.generator }));
  }

  /** Whether the LayerNorm head is applied (it has no parameters, so state dicts are the same either way). */
  get layerNorm(): boolean {
    return this.#norm !== null;
  }

  get width(): number {
    return this.backbone.width;
  }

  /** How input pixels must be prepared (colour order, range, mean, std, size). */
  get input(): InputSpec {
    return this.backbone.input;
  }

  /** Unit-length embeddings [N, dim] of images [N, C, H, W]. */
  forward(images: Tensor): Tensor {
    return scope(() => this.head(this.backbone.features(images)));
  }

  /** The part after the backbone: unit-length embeddings [N, dim] of its features [N, width]. */
  head(features: Tensor): Tensor {
    return scope(() => {
      let h = this.#norm ? this.#norm.forward(features) : features;
      if (this.remap) h = this.remap.forward(h);
      return F.normalize(h, { p: 2, dim: 1, eps: 1e-12 });
    });
  }

  /** Parameters that are not part of a pretrained backbone (the remap layer, if any): trained in warm-up. */
  newParameters(): Tensor[] {
    return this.remap ? this.remap.parameters() : [];
  }

  backboneParameters(): Tensor[] {
    return this.backbone.parameters();
  }

  /**
   * Loads pretrained backbone weights (torchvision / Caffe-converted key names). The classification head
   * (fc.*, last_linear.*) and a DataParallel `module.` prefix are ignored, and the backbone adapts known
   * layout quirks (BN-Inception's [1, C] BatchNorm vectors); anything else that does not match throws a
   * StateDictError naming the keys.
   */
  loadBackboneWeights(stateDict: Readonly<Record<string, Tensor>>): void {
    const keys = Object.keys(stateDict);
    const strip = keys.length > 0 && keys.every((k) => k.startsWith('module.')) ? 'module.'.length : 0;
    const head = this.backbone.headPrefix;
    const filtered: Record<string, Tensor> = {};
    for (const [key, value] of Object.entries(stateDict)) {
      const name = key.slice(strip);
      if (head !== null && (name === head || name.startsWith(`${head}.`))) continue;
      filtered[name] = value;
    }
    scope(() => {
      const adapted = this.backbone.adaptWeights(filtered);
      const report = this.backbone.checkStateDict(adapted);
      if (report.missing.length + report.unexpected.length + report.mismatched.length > 0) {
        throw new StateDictError(report, `weights do not fit the ${this.arch} backbone`);
      }
      this.backbone.loadStateDict(adapted);
    });
  }
}

export function createEmbedder(o: EmbedderOptions): Embedder {
  return new Embedder(o);
}
