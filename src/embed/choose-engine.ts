// Which engine runs a forward, and at which precision: the one decision for every caller (embed, index
// build, serve and search through their flags, and the library: openEngine, modelEmbedder,
// createQueryEmbedder). Without an engine asked for: a bf16 forward runs on libtorch (bf16 is its autocast),
// an .onnx model on onnxruntime (the only engine that reads it), anything else on DEFAULT_ENGINE.
// onnxruntime runs the exported float32 model: bf16 asked for with it is a UsageError, auto means fp32.
import { type Precision, resolvePrecision } from '../tensor/precision.js';
import { UsageError } from '../util/errors.js';
import type { EngineName } from './engine.js';

/**
 * The engine used when none is asked for (and the forward is fp32: bf16 is libtorch's autocast), by the
 * CLI and the library alike. onnxruntime: a forward-only benchmark measured onnxruntime-node 1.30 2.0x
 * (ResNet-50@224) and 3.3x (ResNet-18@112) faster than our libtorch 1.13 forward on this project's 2-core
 * Xeon (docs/onnx.md); bench/embed/run.ts measures both engines end to end.
 */
export const DEFAULT_ENGINE: EngineName = 'onnxruntime';

export const isOnnxFile = (path: string): boolean => /\.onnx$/i.test(path);

export interface EngineRequest {
  /** The model (checkpoint, weights file or .onnx); an .onnx model runs on onnxruntime only. */
  checkpoint?: string | null;
  /** The engine asked for; undefined: the rule above. */
  engine?: EngineName;
  /**
   * The forward's precision, default fp32. fp32 and bf16 run as asked (a command's --precision is
   * resolved for the CPU before: resolvePrecision); auto is resolved here for the CPU (fp32 with
   * onnxruntime).
   */
  precision?: Precision | 'auto';
}

export interface EngineChoice {
  engine: EngineName;
  /** fp32 whenever the engine is onnxruntime. */
  precision: Precision;
}

export interface ChooseEngineOptions {
  /** The precision flag named in messages (index build: --compute-precision). Default --precision. */
  flag?: string;
  /** Gets the line saying what auto means (default: nowhere). */
  log?: (line: string) => void;
}

export function chooseEngine(r: EngineRequest, o: ChooseEngineOptions = {}): EngineChoice {
  const flag = o.flag ?? '--precision';
  const log = o.log ?? (() => {});
  const onnxModel = r.checkpoint != null && isOnnxFile(r.checkpoint);
  if (r.engine === 'onnxruntime') {
    if (r.precision === 'bf16') {
      throw new UsageError(`${flag} bf16: applies to --engine libtorch only (onnxruntime runs fp32)`);
    }
    if (r.precision === 'auto') log('precision: fp32 (auto: --engine onnxruntime runs the float32 ONNX model)');
    return { engine: 'onnxruntime', precision: 'fp32' };
  }
  let precision: Precision;
  if (r.precision === 'auto') {
    const resolved = resolvePrecision('auto', 'cpu');
    log(resolved.line);
    precision = resolved.precision;
  } else precision = r.precision ?? 'fp32';
  if (r.engine === 'libtorch') {
    if (onnxModel) {
      throw new UsageError(`--checkpoint ${r.checkpoint}: an ONNX model runs with --engine onnxruntime only`);
    }
    return { engine: 'libtorch', precision };
  }
  if (onnxModel) return { engine: 'onnxruntime', precision: 'fp32' };
  if (precision === 'bf16') return { engine: 'libtorch', precision };
  return { engine: DEFAULT_ENGINE, precision: DEFAULT_ENGINE === 'onnxruntime' ? 'fp32' : precision };
}
