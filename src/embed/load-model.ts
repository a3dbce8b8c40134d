// A trained embedder from a file: a normsoftmax checkpoint (arch, dim and input pipeline read from it), or
// bare torchvision / safetensors weights (then arch, and dim when it differs from the backbone's width).
import { existsSync } from 'node:fs';
import { resolveWeightsSync } from '../data/weights/index.js';
import { disposeCheckpointFile, isCheckpointFile, readCheckpointFile } from '../io/checkpoint-file.js';
import { loadWeights } from '../io/weights.js';
import { ARCHS, createEmbedder, type Embedder, isArch } from '../nn/embedder.js';
import { isVitArch } from '../nn/vit-archs.js';
import { Generator } from '../tensor/index.js';
import { InputError, UsageError } from '../util/errors.js';

/** Seed of the layers a bare weights file does not hold (the remap to --dim). */
export const BARE_WEIGHTS_SEED = 0;

export interface LoadedModel {
  model: Embedder;
  /** Where it came from, for messages. */
  description: string;
  /** The training run's resize and crop when the file is a checkpoint (its eval pipeline). */
  config: { arch: string; dim: number; resize: number; crop: number } | null;
}

export function loadModel(pathOrName: string, o: { arch?: string; dim?: number } = {}): LoadedModel {
  // A weights name (resnet50, ...) stands for its cached file and gives the architecture.
  const named = existsSync(pathOrName) ? { path: pathOrName } : resolveWeightsSync(pathOrName);
  const path = named.path;
  if (named.arch && !o.arch) o = { ...o, arch: named.arch };
  // A missing file is bad input (exit 3), not "a bare weights file without --arch".
  if (!existsSync(path)) throw new InputError(`--checkpoint ${path}: file not found`);
  if (isCheckpointFile(path)) {
    const ckpt = readCheckpointFile(path);
    try {
      const c = ckpt.meta.config;
      if (!isArch(c.arch)) throw new UsageError(`--checkpoint ${path}: unknown architecture "${c.arch}"`);
      // Checkpoints from before the layerNorm option have the head.
      const model = createEmbedder({
        arch: c.arch,
        dim: c.dim,
        layerNorm: (c as { layerNorm?: unknown }).layerNorm !== false,
        uninitialisedBackbone: isVitArch(c.arch),
      });
      model.loadStateDict(ckpt.model);
      model.eval();
      return { model, description: `${path} (${c.arch}, dim ${c.dim}, epoch ${ckpt.meta.epochsDone})`, config: c };
    } finally {
      disposeCheckpointFile(ckpt);
    }
  }
  if (!o.arch) throw new UsageError(`--checkpoint ${path} is a bare weights file: pass --arch (and --dim)`);
  if (!isArch(o.arch)) throw new UsageError(`--arch: expected one of ${ARCHS.join(', ')}, got "${o.arch}"`);
  // The weights file holds no projection for a --dim below the backbone's width: draw it from a fixed
  // seed, so that every load of the same file (embed, index build, query embedders) is the same model.
  // A ViT's backbone is not drawn first (seconds for ViT-S, all overwritten by the strict load): its remap is
  // the seed's first draw. The paper's backbones keep their draws, so that their remaps stay as they were.
  const model = createEmbedder({
    arch: o.arch,
    dim: o.dim,
    generator: new Generator(BARE_WEIGHTS_SEED),
    uninitialisedBackbone: isVitArch(o.arch),
  });
  const weights = loadWeights(path);
  try {
    // An embedder's own state dict (backbone.* and remap.*), e.g. exported from a checkpoint, loads whole.
    const keys = Object.keys(weights);
    const isEmbedderState = keys.length > 0 && keys.every((k) => k.startsWith('backbone.') || k.startsWith('remap.'));
    if (isEmbedderState) model.loadStateDict(weights);
    else model.loadBackboneWeights(weights);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
  model.eval();
  return { model, description: `${path} (bare ${o.arch} weights, dim ${model.dim})`, config: null };
}
