// An embedding engine for a checkpoint, weights file or name (what `embed` takes), or, for onnxruntime,
// an .onnx file from `normsoftmax export`. Also says how to prepare images for it (its input spec and
// the eval resize/crop), so the image pipeline is the same whichever engine runs the forward. The engine
// and precision are chooseEngine's (an engine asked for, or the one default).
import { readFileSync } from 'node:fs';
import { SMALL_INPUT_MAX } from '../data/image/transform-config.js';
import { DEFAULT_PIPELINE } from '../data/sources/types.js';
import type { InputSpec } from '../nn/input-spec.js';
import type { Precision } from '../tensor/precision.js';
import { InputError } from '../util/errors.js';
import { chooseEngine, isOnnxFile } from './choose-engine.js';
import type { EmbeddingEngine, EngineName } from './engine.js';
import { libtorchEngine } from './libtorch-engine.js';
import { loadModel } from './load-model.js';
import type { Preprocessing } from './onnx/index.js';
import { cachedOnnx } from './onnx-cache.js';
import { onnxEngine } from './onnx-engine.js';

export interface OpenEngineOptions {
  /** Default: chooseEngine's (libtorch for bf16, onnxruntime for an .onnx model, else DEFAULT_ENGINE). */
  engine?: EngineName;
  arch?: string;
  dim?: number;
  /** The forward's precision (default fp32); bf16 is libtorch's (a UsageError with onnxruntime). */
  precision?: Precision;
  /** onnxruntime's intra-op threads (default: all cores). */
  threads?: number;
  /** Gets one line about the ONNX model (exported or cached). */
  log?: (line: string) => void;
}

export interface OpenedEngine {
  engine: EmbeddingEngine;
  /** Where the model came from, for messages. */
  description: string;
  /** How the model wants its input (channels, colour order, range, mean, std, design size). */
  input: InputSpec;
  /** The eval pipeline's resize and crop (the checkpoint's, or the defaults) and the architecture. */
  config: { arch: string | null; dim: number; resize: number; crop: number } | null;
  /** The ONNX model file when the engine is onnxruntime. */
  onnxPath: string | null;
}

/** The input spec an exported model's preprocessing describes (models without resizeMode / filter: square, bilinear). */
export function inputSpecOf(p: Preprocessing): InputSpec {
  return {
    colorOrder: p.colorOrder,
    channels: p.channels === 1 ? 1 : 3,
    range: p.range === 255 ? 255 : 1,
    mean: [...p.mean],
    std: [...p.std],
    // A model fed through a resize is not a small-input one, even when it crops to 32 or less: the size only
    // tells transformForInput which kind it is (the index's or checkpoint's resize and crop are used).
    size: p.resize === null ? p.size : Math.max(p.size, SMALL_INPUT_MAX + 1),
    ...(p.resize !== null && p.resizeMode === 'shorter' ? { resize: p.resize, resizeMode: 'shorter' as const } : {}),
    ...(p.filter === 'bicubic' ? { resizeFilter: 'bicubic' as const } : {}),
  };
}

export async function openEngine(checkpoint: string, o: OpenEngineOptions = {}): Promise<OpenedEngine> {
  const choice = chooseEngine({ checkpoint, engine: o.engine, precision: o.precision });
  if (choice.engine === 'libtorch') {
    const { model, description, config } = loadModel(checkpoint, { arch: o.arch, dim: o.dim });
    return {
      engine: libtorchEngine(model, { precision: choice.precision }),
      description,
      input: model.input,
      config: config ? { ...config } : null,
      onnxPath: null,
    };
  }
  let path: string;
  let bytes: Uint8Array;
  let source: string | null = null;
  if (isOnnxFile(checkpoint)) {
    path = checkpoint;
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch (e) {
      throw new InputError(`--checkpoint ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
  } else {
    ({ path, bytes, description: source } = cachedOnnx(checkpoint, { arch: o.arch, dim: o.dim, log: o.log }));
  }
  const engine = await onnxEngine(bytes, path, { threads: o.threads });
  const p = engine.info.preprocessing;
  return {
    engine,
    description: `${source ?? `${path} (ONNX model, ${engine.info.arch ?? 'unknown arch'}, dim ${engine.dim})`} on onnxruntime`,
    input: inputSpecOf(p),
    config: {
      arch: engine.info.arch,
      dim: engine.dim,
      resize: p.resize ?? DEFAULT_PIPELINE.resize,
      crop: p.crop ?? DEFAULT_PIPELINE.crop,
    },
    onnxPath: path,
  };
}
