// Fixture access for the nn tests: the committed goldens and the ResNet-50 and BN-Inception caches made at
// test time.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors } from '../../src/io/safetensors.js';
import type { Tensor } from '../../src/tensor/index.js';
import { GOLDEN_DIR } from '../helpers/golden.js';
import { referenceSkip, runReference } from '../helpers/reference-python.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const CACHE_DIR = join(ROOT, 'test', 'fixtures', '.cache');

export function goldenSafetensors(name: string): Record<string, Tensor> {
  return loadSafetensors(join(GOLDEN_DIR, name)).tensors;
}

/**
 * Makes the ResNet-50 parity cache (tools/golden/nn.py --resnet50-cache) when missing. Returns a reason
 * to skip when it cannot be made (no PyTorch in the reference Python; under CI that throws), or null when
 * it is ready.
 */
export function ensureResnet50Cache(): string | null {
  if (existsSync(join(CACHE_DIR, 'nn_resnet50_expected.safetensors'))) return null;
  const skip = referenceSkip(['torch', 'torchvision'], 'the ResNet-50 parity fixture cannot be generated');
  if (skip) return skip;
  runReference([join(ROOT, 'tools', 'golden', 'nn.py'), '--resnet50-cache']);
  return null;
}

export interface BninceptionCache {
  /** The folder tools/golden/bninception.py wrote (weights, images, expected outputs). */
  dir: string;
  /** Why it could not be made (the reference Python lacks torch, numpy or PIL), or false when ready. */
  skip: string | false;
}

/**
 * Makes the BN-Inception parity cache (tools/golden/bninception.py --cache, ~90 MB) when missing. Its
 * folder is named by a hash of the script, so that a changed script makes a fresh cache (and drops the old).
 */
export function ensureBninceptionCache(): BninceptionCache {
  const script = join(ROOT, 'tools', 'golden', 'bninception.py');
  const hash = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 12);
  const dir = join(CACHE_DIR, `bninception-${hash}`);
  if (existsSync(join(dir, 'expected.safetensors'))) return { dir, skip: false };
  const skip = referenceSkip(['torch', 'numpy', 'PIL'], 'the BN-Inception parity fixture cannot be generated');
  if (skip === false) {
    // Caches of earlier versions of the script are stale.
    for (const name of existsSync(CACHE_DIR) ? readdirSync(CACHE_DIR) : []) {
      if (name.startsWith('bninception-')) rmSync(join(CACHE_DIR, name), { recursive: true, force: true });
    }
    runReference([script, '--cache', dir]);
  }
  return { dir, skip };
}
