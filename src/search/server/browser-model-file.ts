// serve's model for in-browser embedding: the query checkpoint as ONNX (an .onnx file as it is; anything
// else exported once and cached next to it, as --engine onnxruntime does). A model that cannot be had
// turns the feature off with one line; the server embeds on its side as before.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolveWeights } from '../../data/weights/index.js';
import { isOnnxFile } from '../../embed/choose-engine.js';
import { cachedOnnx } from '../../embed/onnx-cache.js';
import { firstLine } from '../../util/errors.js';
import type { EmbedderIdentity } from '../types.js';
import { type BrowserModel, browserModelOf } from './browser-model.js';

export async function browserModelFor(
  checkpoint: string,
  identity: EmbedderIdentity,
  log: (line: string) => void = (line) => console.error(`serve: ${line}`),
): Promise<BrowserModel | null> {
  try {
    const path = (await resolveWeights(checkpoint)).path;
    let bytes: Uint8Array;
    let sha256: string;
    if (isOnnxFile(path)) {
      bytes = new Uint8Array(readFileSync(path));
      sha256 = createHash('sha256').update(bytes).digest('hex');
    } else {
      ({ bytes, sha256 } = cachedOnnx(path, { arch: identity.arch ?? undefined, dim: identity.dim, log }));
    }
    const model = browserModelOf(bytes, sha256, path);
    const mb = (bytes.length / 1e6).toFixed(1);
    log(`in-browser embedding: ${mb} MB ONNX model at /api/model.onnx`);
    return model;
  } catch (e) {
    log(`in-browser embedding off: ${firstLine(e)}`);
    return null;
  }
}
