// The model's metadata_props: how to prepare pixels for it (the eval pipeline's resize, crop, colour
// order, range, mean, std) and which embedder it is (arch, dim, source file, normsoftmax version).
// Every value is a string; lists are JSON arrays. docs/onnx.md documents each key.
import { createRequire } from 'node:module';
import { transformForInput } from '../../data/image/transform-config.js';
import type { Embedder } from '../../nn/embedder.js';
import type { ResizeFilter, ResizeMode } from '../../nn/input-spec.js';
import { pipelineOf } from '../embed-samples.js';

export const INPUT_NAME = 'images';
export const OUTPUT_NAME = 'embeddings';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
export const NORMSOFTMAX_VERSION = pkg.version;

export interface Preprocessing {
  /**
   * Resize the whole image to resize x resize first (aspect ratio not kept, bilinear), or as resizeMode
   * and filter say; null: no resize.
   */
  resize: number | null;
  /** Present only as 'shorter': the shorter side to resize, aspect kept (torchvision's Resize(int)). Absent: square. */
  resizeMode?: Exclude<ResizeMode, 'square'>;
  /** Present only as 'bicubic' (Pillow's BICUBIC). Absent: Pillow's BILINEAR. */
  filter?: Exclude<ResizeFilter, 'bilinear'>;
  /** Then take the centre crop x crop; null: no crop. */
  crop: number | null;
  /** The height and width the model was trained at (the crop, or the backbone's design size). */
  size: number;
  colorOrder: 'RGB' | 'BGR' | 'gray';
  channels: number;
  /** Pixels scaled to [0, range] (1: divide bytes by 255; 255: raw bytes), then (x - mean) / std. */
  range: number;
  mean: number[];
  std: number[];
}

/** What the embed command's eval pipeline does for this model (src/data/sources/batch-source.ts). */
export function preprocessingOf(model: Embedder, config: { resize: number; crop: number } | null): Preprocessing {
  const spec = model.input;
  const base = transformForInput(spec);
  const p = pipelineOf(config, spec);
  // Small (MNIST-like) inputs are used as they are; larger ones get the run's (or the paper's) resize/crop.
  const resize = base.resize === null ? null : p.resize > 0 ? p.resize : null;
  const crop = base.resize === null ? null : p.crop > 0 ? p.crop : null;
  // The resize mode and filter are the architecture's (a ViT's publisher's); absent for the defaults, so that
  // the metadata of the paper's models stays as it was.
  return {
    resize,
    ...(resize !== null && base.resizeMode === 'shorter' ? { resizeMode: 'shorter' as const } : {}),
    ...(resize !== null && base.filter === 'bicubic' ? { filter: 'bicubic' as const } : {}),
    crop,
    size: crop ?? resize ?? spec.size,
    colorOrder: spec.colorOrder,
    channels: spec.channels,
    range: spec.range,
    mean: [...spec.mean],
    std: [...spec.std],
  };
}

export interface Identity {
  /** 'checkpoint' (a normsoftmax training checkpoint), 'weights' (bare backbone / embedder weights) or 'model'. */
  kind: 'checkpoint' | 'weights' | 'model';
  /** The weights name or the file's base name. */
  name?: string;
  sha256?: string;
}

export function onnxMetadata(
  model: Embedder,
  o: { preprocessing: Preprocessing; identity: Identity; foldBn: boolean },
): Record<string, string> {
  const p = o.preprocessing;
  const layerNorm = model.layerNorm;
  const meta: Record<string, string> = {
    normsoftmax_version: NORMSOFTMAX_VERSION,
    arch: model.arch,
    dim: String(model.dim),
    width: String(model.width),
    layer_norm: String(layerNorm),
    fold_bn: String(o.foldBn),
    source_kind: o.identity.kind,
  };
  if (o.identity.name !== undefined) meta.checkpoint_name = o.identity.name;
  if (o.identity.sha256 !== undefined) meta.checkpoint_sha256 = o.identity.sha256;
  Object.assign(meta, {
    input: INPUT_NAME,
    output: OUTPUT_NAME,
    layout: 'NCHW',
    resize: p.resize === null ? 'none' : String(p.resize),
    ...(p.resizeMode ? { resize_mode: p.resizeMode } : {}),
    ...(p.filter ? { resize_filter: p.filter } : {}),
    crop: p.crop === null ? 'none' : String(p.crop),
    input_size: String(p.size),
    color_order: p.colorOrder,
    channels: String(p.channels),
    range: String(p.range),
    mean: JSON.stringify(p.mean),
    std: JSON.stringify(p.std),
    preprocessing: JSON.stringify(p),
  });
  return meta;
}
