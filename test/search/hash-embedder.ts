// A stand-in model for build tests: a file's vector comes from its content hash (negated for `negate`, a
// second "model"), under the checkpoint identity `checkpoint`; records what it embeds.
import type { Sample } from '../../src/data/types.js';
import type { ItemEmbedder } from '../../src/search/build/item-embedder.js';
import { sha256File } from '../../src/search/sha256.js';

export const HASH_DIM = 8;

export function hashVector(path: string, negate = false): Float32Array {
  const h = sha256File(path);
  const v = Float32Array.from({ length: HASH_DIM }, (_, j) => Number.parseInt(h.slice(j * 2, j * 2 + 2), 16) - 127.5);
  const norm = Math.hypot(...v);
  return v.map((x) => ((negate ? -1 : 1) * x) / norm);
}

export function hashEmbedder(o: { checkpoint: string; negate?: boolean }): ItemEmbedder & { embedded: string[] } {
  const embedded: string[] = [];
  return {
    identity: {
      checkpointSha256: o.checkpoint.repeat(64).slice(0, 64),
      checkpointPath: null,
      arch: 'fake',
      dim: HASH_DIM,
      input: null,
      resize: 0,
      crop: 0,
    },
    description: 'fake',
    embedded,
    async embed(_dataset, samples: readonly Sample[]) {
      const out = new Float32Array(samples.length * HASH_DIM);
      samples.forEach((s, i) => {
        out.set(hashVector(s.path, o.negate), i * HASH_DIM);
        embedded.push(s.path);
      });
      return out;
    },
    close() {},
  };
}
