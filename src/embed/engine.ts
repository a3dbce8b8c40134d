// The forward of an embedder behind one small interface, so that callers (embed, index build, the query
// worker, benchmarks) run either engine the same way: libtorch (our addon) or onnxruntime (the model
// exported to ONNX, run by onnxruntime-node). The image pipeline is the same for both; only this differs.
// choose-engine.ts decides which one runs; embed-samples.ts is the one loop that feeds either.
import { UsageError } from '../util/errors.js';

export const ENGINES = ['libtorch', 'onnxruntime'] as const;
export type EngineName = (typeof ENGINES)[number];

/** An --engine flag's value; anything else is a UsageError naming the flag (no flag: chooseEngine decides). */
export function parseEngine(value: string, flag = '--engine'): EngineName {
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
