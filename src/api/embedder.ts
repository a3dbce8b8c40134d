// loadEmbedder and embedImages for library users: a model from a normsoftmax checkpoint, bare torchvision
// weights (a file or a name from the weights table), or an exported .onnx model, embedding images the way
// `normsoftmax embed` and `index build` do (the checkpoint's eval pipeline, the chosen engine, unit vectors).
// Files go through the image pipeline's worker threads; encoded bytes (an upload) through a query worker,
// which computes the same pixels.
import { resolve } from 'node:path';
import type { Dataset } from '../data/types.js';
import { resolveWeights } from '../data/weights/index.js';
import type { EngineName } from '../embed/engine.js';
import { type ItemEmbedder, modelEmbedder } from '../search/build/item-embedder.js';
import { createQueryEmbedder, type SettledQueryEmbedder } from '../search/query-embedder.js';
import type { EmbedderIdentity } from '../search/types.js';
import type { Precision } from '../tensor/precision.js';

export interface LoadEmbedderOptions {
  /** The architecture of bare weights (resnet18, resnet50, bninception, smallcnn...); read from a checkpoint. */
  arch?: string;
  /** The embedding size of bare weights below the backbone's width (a seeded projection). */
  dim?: number;
  /** libtorch or onnxruntime; default as the commands choose (onnxruntime for fp32, libtorch for bf16). */
  engine?: EngineName;
  precision?: Precision;
  /** Intra-op threads of onnxruntime (default all cores). */
  threads?: number;
  /** Decode JPEGs at reduced size where that still covers the resize (as `embed --jpeg-draft`). */
  jpegDraft?: boolean;
}

export interface Embedder {
  readonly dim: number;
  /** Who makes the vectors (checkpoint SHA-256, architecture, pipeline), as an index records it. */
  readonly identity: EmbedderIdentity;
  /** One unit-length vector per image, in order: file paths, or encoded bytes (JPEG, PNG, WebP...). */
  embedImages(images: readonly (string | Uint8Array)[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

class LoadedEmbedder implements Embedder {
  #bytes: Promise<SettledQueryEmbedder> | null = null;

  constructor(
    readonly items: ItemEmbedder,
    readonly options: LoadEmbedderOptions,
  ) {}

  get dim(): number {
    return this.items.identity.dim;
  }

  get identity(): EmbedderIdentity {
    return this.items.identity;
  }

  async embedImages(images: readonly (string | Uint8Array)[]): Promise<Float32Array[]> {
    const out: Float32Array[] = new Array(images.length);
    const files = images.flatMap((img, i) => (typeof img === 'string' ? [{ path: resolve(img), label: 0, i }] : []));
    if (files.length > 0) {
      const dataset: Dataset = { name: 'images', root: '/', splits: { test: files } };
      const flat = await this.items.embed(dataset, files);
      files.forEach((f, j) => {
        out[f.i] = flat.slice(j * this.dim, (j + 1) * this.dim);
      });
    }
    const bytes = images.flatMap((img, i) => (typeof img === 'string' ? [] : [{ img, i }]));
    if (bytes.length > 0) {
      const { engine, precision, threads } = this.options;
      // The same model file, engine and precision as the files' path: the same vectors.
      this.#bytes ??= createQueryEmbedder(this.identity, {
        force: true,
        ...(engine ? { engine } : {}),
        ...(precision ? { precision } : {}),
        ...(threads ? { threads } : {}),
      });
      const vectors = await (await this.#bytes).embed(bytes.map((b) => b.img));
      bytes.forEach((b, j) => {
        out[b.i] = vectors[j] as Float32Array;
      });
    }
    return out;
  }

  async close(): Promise<void> {
    this.items.close();
    const bytes = this.#bytes;
    this.#bytes = null;
    await bytes?.then(
      (e) => e.close(),
      () => undefined,
    );
  }
}

/** Loads a model to embed images with: a checkpoint, weights (a file or a name, downloaded when not cached), an .onnx. */
export async function loadEmbedder(checkpoint: string, options: LoadEmbedderOptions = {}): Promise<Embedder> {
  const named = await resolveWeights(checkpoint);
  const arch = options.arch ?? named.arch;
  const items = await modelEmbedder(named.path, {
    ...options,
    ...(arch !== undefined ? { arch } : {}),
  });
  return new LoadedEmbedder(items, options);
}

/** Embeds images with a model loaded for the call (see loadEmbedder); unit vectors, in order. */
export async function embedImages(
  checkpoint: string,
  images: readonly (string | Uint8Array)[],
  options: LoadEmbedderOptions = {},
): Promise<Float32Array[]> {
  const embedder = await loadEmbedder(checkpoint, options);
  try {
    return await embedder.embedImages(images);
  } finally {
    await embedder.close();
  }
}
