// The exporter's API: an Embedder to ONNX bytes (exportOnnx), and those bytes to a file without ever
// leaving a half-written one (writeOnnx).
import { writeFileAtomic } from '../../io/atomic.js';
import type { Embedder } from '../../nn/embedder.js';
import { FailureError } from '../../util/errors.js';
import { isVitBackbone } from './emit-vit.js';
import { buildModelProto } from './graph.js';
import { type Identity, NORMSOFTMAX_VERSION, onnxMetadata, preprocessingOf } from './metadata.js';
import { parseOpset } from './opset.js';
import { encodeModel } from './proto.js';

export interface OnnxExportOptions {
  /** ONNX opset (default DEFAULT_OPSET = 17; MIN_OPSET..MAX_OPSET, else a UsageError). */
  opset?: number;
  /** Fold every BatchNorm into the convolution before it (default true). */
  foldBn?: boolean;
  /** Symbolic batch dimension "N" (default true); false fixes the batch to 1. */
  dynamicBatch?: boolean;
  /**
   * Fix the input's height and width to this size; default null: symbolic "H" and "W" (a ViT: the
   * preprocessing's size, the crop, which its graph is made for).
   */
  inputSize?: number | null;
  /** The training run's eval resize and crop (a checkpoint's config), or null for the default pipeline. */
  pipeline?: { resize: number; crop: number } | null;
  /** Where the weights came from, for metadata_props (default { kind: 'model' }). */
  identity?: Identity;
}

/**
 * The embedder (in eval mode: BatchNorm uses its running statistics) as a serialised ONNX ModelProto with
 * input `images` [N, C, H, W] float32 and output `embeddings` [N, dim] float32, unit length.
 */
export function exportOnnx(model: Embedder, o: OnnxExportOptions = {}): Uint8Array {
  const opset = parseOpset(o.opset);
  const foldBn = o.foldBn ?? true;
  const inputSize = o.inputSize ?? null;
  if (inputSize !== null && (!Number.isInteger(inputSize) || inputSize < 1)) {
    throw new RangeError(`ONNX export: inputSize must be a positive integer, got ${inputSize}`);
  }
  const preprocessing = preprocessingOf(model, o.pipeline ?? null);
  const metadata = onnxMetadata(model, {
    preprocessing,
    identity: o.identity ?? { kind: 'model' },
    foldBn,
  });
  const proto = buildModelProto(model, {
    opset,
    foldBn,
    dynamicBatch: o.dynamicBatch ?? true,
    // A ViT's graph takes the size the pipeline crops to (its position embeddings are made for it).
    inputSize: inputSize ?? (isVitBackbone(model.backbone) ? preprocessing.size : null),
    metadata,
    producerVersion: NORMSOFTMAX_VERSION,
  });
  return encodeModel(proto);
}

/**
 * Writes the bytes to a temporary file beside `path` and renames it: `path` is whole or untouched, and no
 * temporary file is left behind. A file-system error is a FailureError naming the path.
 */
export function writeOnnx(path: string, bytes: Uint8Array): void {
  try {
    writeFileAtomic(path, bytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw e;
    throw new FailureError(`${path}: cannot write the ONNX model (${code})`);
  }
}
