// Shared by the ONNX export tests: randomly initialised embedders whose BatchNorm statistics and affine
// parameters are random too (so that folding changes every weight), onnxruntime sessions, row cosines.
import * as ort from 'onnxruntime-node';
import { onnx } from '../../../src/embed/onnx/proto.js';
import { BatchNorm2d } from '../../../src/nn/batchnorm.js';
import { type Arch, createEmbedder, type Embedder } from '../../../src/nn/embedder.js';
import { Generator, noGrad, normal, scope, type Tensor, uniform } from '../../../src/tensor/index.js';

/**
 * A random embedder whose BatchNorm layers hold statistics of real activations, perturbed: gamma and beta
 * are drawn, one training-mode pass with momentum 1 over `calibration` sets the running statistics to that
 * batch's, then each running mean moves by 0.1 std and each variance by a factor in [0.7, 1.4]. Without
 * the calibration a deep random network forgets its input (every image gives the same embedding), and
 * agreement would prove little.
 */
export function randomEmbedder(
  arch: Arch,
  dim: number | undefined,
  seed: number,
  calibration: Tensor,
  o: { layerNorm?: boolean } = {},
): Embedder {
  const generator = new Generator(seed);
  const model = createEmbedder({ arch, dim, generator, layerNorm: o.layerNorm });
  const bns = model.namedModules().flatMap(([, m]) => (m instanceof BatchNorm2d ? [m] : []));
  const set = (target: Tensor | null, value: Tensor) => {
    target?.copy_(value);
    value.dispose();
  };
  noGrad(() => {
    for (const m of bns) {
      set(m.weight, uniform([m.numFeatures], 0.5, 1.5, { generator }));
      set(m.bias, normal([m.numFeatures], 0, 0.2, { generator }));
      (m as { momentum: number }).momentum = 1;
    }
    model.train();
    scope(() => model.forward(calibration));
    for (const m of bns) {
      (m as { momentum: number }).momentum = 0.1;
      const c = [m.numFeatures];
      scope(() => {
        m.runningMean.add_(normal(c, 0, 0.1, { generator }).mul(m.runningVar.sqrt()));
        m.runningVar.mul_(uniform(c, 0.7, 1.4, { generator }));
      });
    }
  });
  return model.eval();
}

export function batchNormCount(model: Embedder): number {
  return model.namedModules().filter(([, m]) => m instanceof BatchNorm2d).length;
}

export async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, interOpNumThreads: 1 });
}

/** Runs the model on images [n, ...shape] and returns `embeddings` and its dims. */
export async function runOnnx(
  s: ort.InferenceSession,
  images: Float32Array,
  dims: readonly number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const out = await s.run({ images: new ort.Tensor('float32', images, dims) });
  const e = out.embeddings as ort.Tensor;
  return { data: e.data as Float32Array, dims: e.dims };
}

export function row(data: Float32Array, dim: number, i: number): Float32Array {
  return data.subarray(i * dim, (i + 1) * dim);
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

export function norm(a: Float32Array): number {
  return Math.sqrt(a.reduce((s, v) => s + v * v, 0));
}

export function decodeModel(bytes: Uint8Array) {
  return onnx.ModelProto.decode(bytes);
}

export function metadataOf(bytes: Uint8Array): Record<string, string> {
  return Object.fromEntries(decodeModel(bytes).metadataProps.map((p) => [p.key as string, p.value as string]));
}

export function opTypes(bytes: Uint8Array): string[] {
  return (decodeModel(bytes).graph?.node ?? []).map((n) => n.opType as string);
}
