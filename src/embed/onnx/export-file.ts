// Export from a file: a normsoftmax checkpoint or bare weights (a path or a cached weights name, loaded
// as `embed` loads them), with the file's name and SHA-256 in the metadata.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { resolveWeightsSync } from '../../data/weights/index.js';
import { isCheckpointFile } from '../../io/checkpoint-file.js';
import { loadModel } from '../load-model.js';
import { exportOnnx, type OnnxExportOptions } from './export.js';
import { parseOpset } from './opset.js';

export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export interface ExportFileOptions extends Omit<OnnxExportOptions, 'pipeline' | 'identity'> {
  /** A checkpoint or weights file, or a weights name that is already cached (resolveWeights downloads one). */
  checkpoint: string;
  /** For bare weights: the architecture (implied by a weights name) and the embedding size. */
  arch?: string;
  dim?: number;
}

export interface ExportedFile {
  bytes: Uint8Array;
  /** Where the model came from, for messages (loadModel's description). */
  description: string;
}

/** Loads the model (InputError for a missing or malformed file) and exports it. */
export function exportCheckpoint(o: ExportFileOptions): ExportedFile {
  parseOpset(o.opset); // a wrong --opset fails before the model loads
  const named = existsSync(o.checkpoint) ? { path: o.checkpoint, name: undefined } : resolveWeightsSync(o.checkpoint);
  const { model, description, config } = loadModel(o.checkpoint, { arch: o.arch, dim: o.dim });
  try {
    const bytes = exportOnnx(model, {
      ...o,
      pipeline: config,
      identity: {
        kind: isCheckpointFile(named.path) ? 'checkpoint' : 'weights',
        name: named.name ?? basename(named.path),
        sha256: sha256File(named.path),
      },
    });
    return { bytes, description };
  } finally {
    model.dispose();
  }
}
