// The forward of an embedder behind one small interface, so that callers (embed, index build, the query
// worker, benchmarks) run either engine the same way: libtorch (our addon) or onnxruntime (the model
// exported to ONNX, run by onnxruntime-node). The image pipeline is the same for both; only this differs.
import { UsageError } from '../util/errors.js';

export const ENGINES = ['libtorch', 'onnxruntime'] as const;
export type EngineName = (typeof ENGINES)[number];

/**
 * The engine used when --engine is not given (and the forward is fp32: bf16 is libtorch's autocast).
 * onnxruntime: a forward-only benchmark measured onnxruntime-node 1.30 2.0x (ResNet-50@224) and 3.3x
 * (ResNet-18@112) faster than our libtorch 1.13 forward on this project's 2-core Xeon (docs/onnx.md);
 * bench/embed/run.ts measures both engines end to end.
 */
export const DEFAULT_ENGINE: EngineName = 'onnxruntime';

export function parseEngine(value: string | undefined, flag = '--engine'): EngineName {
  if (value === undefined) return DEFAULT_ENGINE;
  if ((ENGINES as readonly string[]).includes(value)) return value as EngineName;
  throw new UsageError(`${flag}: expected ${ENGINES.join(' or ')}, got "${value}"`);
}

export interface EmbeddingEngine {
  readonly name: EngineName;
  /** Embedding size (the output's second dimension). */
  readonly dim: number;
  /**
   * Unit-length float32 embeddings [N, dim], row-major, of a batch of prepared images (float32 NCHW of
   * `shape` [N, C, H, W]). Asynchronous because onnxruntime runs off the calling thread.
   */
  embed(batch: Float32Array, shape: readonly number[]): Promise<Float32Array>;
  dispose(): void;
}

/** Checks a batch's shape against its data before any engine sees it (no native call on bad arguments). */
export function checkBatch(batch: Float32Array, shape: readonly number[], channels: number): void {
  const ok =
    shape.length === 4 &&
    shape.every((d) => Number.isInteger(d) && d > 0) &&
    shape[1] === channels &&
    shape.reduce((a, b) => a * b, 1) === batch.length;
  if (!ok) {
    throw new UsageError(
      `embedding batch: expected shape [N, ${channels}, H, W] matching ${batch.length} values, got [${shape.join(', ')}]`,
    );
  }
}
