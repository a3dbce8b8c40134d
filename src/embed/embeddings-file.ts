// Embeddings on disk, as `embed` writes them and `eval --embeddings` reads them: X.npy (N x D float32)
// and X.json next to it with the images' paths and labels, each written atomically (temp file, fsync,
// rename).
import type { Sample } from '../data/types.js';
import { writeFileAtomic } from '../io/atomic.js';
import { saveNpy } from '../io/npy.js';
import { tensor } from '../tensor/index.js';

/** The sidecar of an embeddings file: X.json next to X.npy (what `embed --out X.npy` writes). */
export function sidecarPath(npyPath: string): string {
  return npyPath.replace(/(\.npy)?$/i, '.json');
}

/** Writes `vectors` (samples.length x dim, row-major) to `out` and the samples' paths and labels beside it. */
export function writeEmbeddingsFile(out: string, vectors: Float32Array, dim: number, samples: readonly Sample[]) {
  const embeddings = tensor(vectors, { shape: [samples.length, dim] });
  try {
    saveNpy(out, embeddings);
  } finally {
    embeddings.dispose();
  }
  const sidecar = sidecarPath(out);
  writeFileAtomic(
    sidecar,
    `${JSON.stringify({ paths: samples.map((s) => s.path), labels: samples.map((s) => s.label) })}\n`,
  );
  return { sidecar };
}
