// Pretrained ImageNet weights by name: where each file lives and what it must hash to. The table can be
// replaced (tests, mirrors) by pointing NORMSOFTMAX_WEIGHTS_TABLE at a JSON file of the same shape:
// {"resnet18": {"url": ..., "sha256": ..., "arch": "resnet18"}, ...}.
import { readFileSync } from 'node:fs';
import { InputError } from '../../util/errors.js';

export interface WeightsEntry {
  url: string;
  /**
   * Full SHA-256 (64 hex digits), or only its first digits when no full digest was published (then the
   * download checks the prefix and warns that the file is prefix-verified only). Absent when the publisher
   * states none: the first download's digest is pinned in the cache (NAME.sha256 beside the file) and
   * every later use is checked against it, with a warning that it was not verified against a published hash.
   */
  sha256?: string;
  /** The architecture the file fits (an ARCHS name). */
  arch: string;
  /** Size in bytes, when known. */
  size?: number;
  description?: string;
}

export const WEIGHTS_TABLE_ENV = 'NORMSOFTMAX_WEIGHTS_TABLE';

// The ResNets' and BN-Inception's full digests start with the hex digits in the file's name (torchvision
// and Cadene name files by the first 8 or 9 digits of their SHA-256), and were found quoted, identically, in
// several public projects that pin these files (found with a code search for the prefix; sources named per
// entry). The ViTs list only what their publishers state: torchvision's file-name prefix, OpenAI's whole
// digest (the directory of each CLIP URL, which clip.py's _download checks), and nothing for DINO and
// DINOv2 (their hubconf URLs carry no hash: the first download is pinned).
export const WEIGHTS: Record<string, WeightsEntry> = {
  resnet18: {
    // torchvision ResNet18_Weights.IMAGENET1K_V1; digest pinned in several projects' download scripts
    // (e.g. lerobot deployment scripts, "RESNET18_SHA256=f37072fd47e8...").
    url: 'https://download.pytorch.org/models/resnet18-f37072fd.pth',
    sha256: 'f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec',
    arch: 'resnet18',
    size: 46_830_571,
    description: 'torchvision ImageNet (V1)',
  },
  resnet34: {
    // torchvision ResNet34_Weights.IMAGENET1K_V1; digest pinned in download scripts and a Rust checkpoint
    // table that also lists resnet50-0676ba61 and resnet101-63fe2227.
    url: 'https://download.pytorch.org/models/resnet34-b627a593.pth',
    sha256: 'b627a593bcbe140c234610266fe4f8ae95ea42fc881d091c9b6052e6b1d0590f',
    arch: 'resnet34',
    description: 'torchvision ImageNet (V1)',
  },
  resnet50: {
    // The original torchvision release the paper fine-tuned (2017, same weights as today's IMAGENET1K_V1,
    // resnet50-0676ba61.pth = 0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a, re-saved).
    // Digest pinned in several projects (HISTORICAL_IMAGENET_SHA256, MatAnyone backbone pins, a model
    // manifest that also records the size 102,502,400, matching torchvision's download log).
    url: 'https://download.pytorch.org/models/resnet50-19c8e357.pth',
    sha256: '19c8e3572231adff6824a2da93fd67b5986919a2e65f8b6007eab4edee220097',
    arch: 'resnet50',
    size: 102_502_400,
    description: "torchvision ImageNet, the original release (the paper's)",
  },
  'resnet50-v2': {
    // torchvision ResNet50_Weights.IMAGENET1K_V2; digest and size pinned in several projects
    // (EXPECTED_CHECKPOINT_SHA256 / CHECKPOINT_SIZE_BYTES = 102_540_417, `sha256sum` checks in shell scripts).
    url: 'https://download.pytorch.org/models/resnet50-11ad3fa6.pth',
    sha256: '11ad3fa62ca79e40addfd354a8ec4b7c75143b3038b8d2a807fbc68deab379ca',
    arch: 'resnet50',
    size: 102_540_417,
    description: 'torchvision ImageNet (V2, newer recipe)',
  },
  resnet101: {
    // torchvision ResNet101_Weights.IMAGENET1K_V1 (the original weights, re-saved; no full digest of the
    // 2017 file resnet101-5d3b4d8f.pth was found). Digest from a Rust checkpoint table whose other entries
    // (resnet18/34/50) match the digests found elsewhere.
    url: 'https://download.pytorch.org/models/resnet101-63fe2227.pth',
    sha256: '63fe2227b86e8f1f2063f43a75c84d195911b6a0eace650907dd3dc62dd49a0a',
    arch: 'resnet101',
    description: 'torchvision ImageNet (V1)',
  },
  bninception: {
    // Cadene's pretrainedmodels BN-Inception, converted from Caffe (the paper's BN-Inception rows); digest
    // pinned in several metric-learning reproductions (BN_INCEPTION_SHA256=52deb473314542a5...).
    url: 'http://data.lip6.fr/cadene/pretrainedmodels/bn_inception-52deb4733.pth',
    sha256: '52deb473314542a5c2f87e9e6f26f4ca42fe863d15f986414dbae8c2dfdd2353',
    arch: 'bninception',
    description: 'Cadene pretrainedmodels, Caffe-converted ImageNet',
  },
  vit_b_16: {
    // torchvision ViT_B_16_Weights.IMAGENET1K_V1 (torchvision/models/vision_transformer.py).
    url: 'https://download.pytorch.org/models/vit_b_16-c867db91.pth',
    sha256: 'c867db91',
    arch: 'vit_b_16',
    description: 'torchvision ViT-B/16 ImageNet-1k (V1, supervised)',
  },
  vit_l_16: {
    // torchvision ViT_L_16_Weights.IMAGENET1K_V1.
    url: 'https://download.pytorch.org/models/vit_l_16-852ce7e3.pth',
    sha256: '852ce7e3',
    arch: 'vit_l_16',
    description: 'torchvision ViT-L/16 ImageNet-1k (V1, supervised)',
  },
  // facebookresearch/dino hubconf.py (dino_vits16, dino_vitb16): the backbone's state dict, no head.
  dino_vits16: {
    url: 'https://dl.fbaipublicfiles.com/dino/dino_deitsmall16_pretrain/dino_deitsmall16_pretrain.pth',
    arch: 'dino_vits16',
    description: 'DINO ViT-S/16, self-supervised on ImageNet-1k',
  },
  dino_vitb16: {
    url: 'https://dl.fbaipublicfiles.com/dino/dino_vitbase16_pretrain/dino_vitbase16_pretrain.pth',
    arch: 'dino_vitb16',
    description: 'DINO ViT-B/16, self-supervised on ImageNet-1k',
  },
  // facebookresearch/dinov2 dinov2/hub/backbones.py: _DINOV2_BASE_URL/{base}/{full}_pretrain.pth (LVD-142M).
  ...Object.fromEntries(
    (['s', 'b', 'l'] as const).flatMap((size) =>
      [false, true].map((reg) => {
        const base = `dinov2_vit${size}14`;
        const arch = `${base}${reg ? '_reg' : ''}`;
        const entry: WeightsEntry = {
          url: `https://dl.fbaipublicfiles.com/dinov2/${base}/${base}${reg ? '_reg4' : ''}_pretrain.pth`,
          arch,
          description: `DINOv2 ViT-${size.toUpperCase()}/14${reg ? ' with 4 registers' : ''}, self-supervised on LVD-142M`,
        };
        return [arch, entry];
      }),
    ),
  ),
  // openai/CLIP clip/clip.py _MODELS: TorchScript archives of the whole CLIP (float16); the image tower is
  // read from its visual.* tensors.
  clip_vitb32: {
    url: 'https://openaipublic.azureedge.net/clip/models/40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt',
    sha256: '40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af',
    arch: 'clip_vitb32',
    description: 'OpenAI CLIP ViT-B/32 image tower (WebImageText 400M)',
  },
  clip_vitb16: {
    url: 'https://openaipublic.azureedge.net/clip/models/5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f/ViT-B-16.pt',
    sha256: '5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f',
    arch: 'clip_vitb16',
    description: 'OpenAI CLIP ViT-B/16 image tower (WebImageText 400M)',
  },
};

/** The table in use: the built-in one, or the file NORMSOFTMAX_WEIGHTS_TABLE names. */
export function weightsTable(): Record<string, WeightsEntry> {
  const path = process.env[WEIGHTS_TABLE_ENV];
  if (!path) return WEIGHTS;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`${WEIGHTS_TABLE_ENV}=${path}: cannot read it as JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InputError(`${WEIGHTS_TABLE_ENV}=${path}: expected an object of {url, sha256, arch} by name`);
  }
  for (const [name, e] of Object.entries(doc)) {
    const o = e as Record<string, unknown>;
    const ok =
      typeof o === 'object' &&
      o !== null &&
      typeof o.url === 'string' &&
      (o.sha256 === undefined || (typeof o.sha256 === 'string' && /^[0-9a-f]{8,64}$/i.test(o.sha256))) &&
      typeof o.arch === 'string' &&
      (o.size === undefined || typeof o.size === 'number');
    if (!ok)
      throw new InputError(`${WEIGHTS_TABLE_ENV}=${path}: "${name}" must be {url, sha256 (hex; optional), arch}`);
  }
  return doc as Record<string, WeightsEntry>;
}

export function weightsEntry(name: string): WeightsEntry | undefined {
  const table = weightsTable();
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Whether the digest is only a prefix of the SHA-256 (a full one has 64 hex digits). */
export function isPrefixOnly(e: WeightsEntry): boolean {
  return e.sha256 !== undefined && e.sha256.length < 64;
}

/** Whether no digest was published: the cache pins the first download's. */
export function isUnpublished(e: WeightsEntry): boolean {
  return e.sha256 === undefined;
}
