// Fixture access for the nn tests: the committed goldens and the ResNet-50 cache made at test time.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DType, type Tensor, tensor } from '../../src/tensor/index.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const CACHE_DIR = join(ROOT, 'test', 'fixtures', '.cache');
const PYTHON = '/usr/bin/python3';

const DTYPES: Record<string, DType> = { F32: 'float32', F64: 'float64', I64: 'int64', I32: 'int32', U8: 'uint8' };

/** A minimal safetensors reader for test fixtures (header JSON, then raw little-endian data). */
export function readSafetensors(path: string): Record<string, Tensor> {
  const buf = readFileSync(path);
  const headerLength = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLength;
  const out: Record<string, Tensor> = {};
  for (const [key, info] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const dtype = DTYPES[info.dtype];
    if (!dtype) throw new Error(`${path}: unsupported dtype ${info.dtype} for ${key}`);
    const bytes = buf.subarray(base + info.data_offsets[0], base + info.data_offsets[1]);
    const copy = new Uint8Array(bytes).buffer; // aligned copy
    const typed =
      dtype === 'float32'
        ? new Float32Array(copy)
        : dtype === 'float64'
          ? new Float64Array(copy)
          : dtype === 'int64'
            ? new BigInt64Array(copy)
            : dtype === 'int32'
              ? new Int32Array(copy)
              : new Uint8Array(copy);
    out[key] = tensor(typed, { shape: info.shape });
  }
  return out;
}

export function goldenSafetensors(name: string): Record<string, Tensor> {
  return readSafetensors(join(GOLDEN_DIR, name));
}

/** Entries of a tensor record whose key starts with prefix, with the prefix removed. */
export function withPrefix(record: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(record)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

export function pythonHasTorch(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Makes the ResNet-50 parity cache (tools/golden/nn.py --resnet50-cache) when missing. Returns a reason
 * to skip when it cannot be made (no PyTorch in /usr/bin/python3), or null when it is ready.
 */
export function ensureResnet50Cache(): string | null {
  if (existsSync(join(CACHE_DIR, 'nn_resnet50_expected.safetensors'))) return null;
  if (!existsSync(PYTHON) || !pythonHasTorch()) {
    return `${PYTHON} has no torch/torchvision, so the ResNet-50 parity fixture cannot be generated (install python3-torch and python3-torchvision)`;
  }
  const r = spawnSync(PYTHON, [join(ROOT, 'tools', 'golden', 'nn.py'), '--resnet50-cache'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tools/golden/nn.py --resnet50-cache failed:\n${r.stderr}`);
  return null;
}
