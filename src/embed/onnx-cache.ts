// The ONNX model of a checkpoint for the onnxruntime engine and the browser: exported on first use and
// cached as <checkpoint>.onnx with a sidecar <checkpoint>.onnx.json that records the checkpoint's SHA-256,
// the export options, the model's arch and dim and its own SHA-256. A changed checkpoint, other options
// (opset, a new normsoftmax version), another --arch/--dim asked for bare weights, or a model file that
// no longer matches its sidecar re-export. When the checkpoint's
// folder is not writable the cache is $NORMSOFTMAX_HOME/onnx/ (default ~/.cache/normsoftmax/onnx).
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { resolveWeightsSync } from '../data/weights/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { DEFAULT_OPSET, exportCheckpoint, sha256File, writeOnnx } from './onnx/index.js';
import { NORMSOFTMAX_VERSION } from './onnx/metadata.js';
import { readOnnxMetadata } from './onnx-metadata.js';

export interface CachedOnnx {
  path: string;
  bytes: Uint8Array;
  /** SHA-256 of the model file (hex). */
  sha256: string;
  /** True when this call exported it (false: the cached file was still good). */
  exported: boolean;
  /** The source as loadModel describes it ("x.safetensors (bare resnet18 weights, dim 16)"). */
  description: string;
}

interface Sidecar {
  checkpointSha256: string;
  options: Record<string, unknown>;
  /** The exported model's architecture and embedding size (its metadata). */
  arch: string;
  dim: number;
  description: string;
  onnxSha256: string;
}

export function onnxCacheDir(): string {
  return join(process.env.NORMSOFTMAX_HOME || join(homedir(), '.cache', 'normsoftmax'), 'onnx');
}

function writableDir(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function readSidecar(path: string): Sidecar | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Sidecar;
  } catch {
    return null;
  }
}

/**
 * The cached model when its sidecar matches the checkpoint, the options and the asked-for arch and dim
 * (when given: a checkpoint's own are always the same) and the file is intact.
 */
function reuse(
  path: string,
  checkpointSha256: string,
  options: Record<string, unknown>,
  o: { arch?: string; dim?: number },
): CachedOnnx | null {
  const side = readSidecar(`${path}.json`);
  if (!side || !existsSync(path)) return null;
  if (side.checkpointSha256 !== checkpointSha256 || JSON.stringify(side.options) !== JSON.stringify(options))
    return null;
  if ((o.arch !== undefined && o.arch !== side.arch) || (o.dim !== undefined && o.dim !== side.dim)) return null;
  const bytes = new Uint8Array(readFileSync(path));
  const sha = sha256(bytes);
  return sha === side.onnxSha256 ? { path, bytes, sha256: sha, exported: false, description: side.description } : null;
}

/**
 * The ONNX model of a checkpoint, weights file or (cached) weights name, exported when no good cached
 * copy exists. `log` gets one line saying which.
 */
export function cachedOnnx(
  checkpoint: string,
  o: { arch?: string; dim?: number; log?: (line: string) => void } = {},
): CachedOnnx {
  const file = existsSync(checkpoint) ? checkpoint : resolveWeightsSync(checkpoint).path;
  const checkpointSha256 = sha256File(file);
  const options = {
    opset: DEFAULT_OPSET,
    foldBn: true,
    dynamicBatch: true,
    normsoftmax: NORMSOFTMAX_VERSION,
  };
  const beside = `${file}.onnx`;
  const inHome = join(onnxCacheDir(), `${basename(file)}-${checkpointSha256.slice(0, 16)}.onnx`);
  const path = writableDir(dirname(file)) ? beside : inHome;
  const log = o.log ?? (() => {});
  const hit = reuse(path, checkpointSha256, options, o);
  if (hit) {
    log(`onnx: ${path} (cached)`);
    return hit;
  }
  const { bytes, description } = exportCheckpoint({
    checkpoint,
    arch: o.arch,
    dim: o.dim,
    opset: DEFAULT_OPSET,
    foldBn: true,
    dynamicBatch: true,
  });
  writeOnnx(path, bytes);
  const meta = readOnnxMetadata(bytes, path);
  const sidecar: Sidecar = {
    checkpointSha256,
    options,
    arch: meta.arch ?? '',
    dim: Number(meta.dim),
    description,
    onnxSha256: sha256(bytes),
  };
  writeFileAtomic(`${path}.json`, `${JSON.stringify(sidecar, null, 2)}\n`);
  log(`onnx: exported to ${path}`);
  return { path, bytes, sha256: sidecar.onnxSha256, exported: true, description };
}
