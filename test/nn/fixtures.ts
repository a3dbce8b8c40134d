// Fixture access for the nn tests: the committed goldens and the ResNet-50 cache made at test time.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors } from '../../src/io/safetensors.js';
import type { Tensor } from '../../src/tensor/index.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const CACHE_DIR = join(ROOT, 'test', 'fixtures', '.cache');
const PYTHON = '/usr/bin/python3';

export function goldenSafetensors(name: string): Record<string, Tensor> {
  return loadSafetensors(join(GOLDEN_DIR, name)).tensors;
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
