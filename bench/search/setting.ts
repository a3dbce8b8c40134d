// What bench/search's runs share: where they run from, the reference Python, and the data's shape
// (clustered unit vectors, noise 1 per coordinate around their centre; recall@10).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..');
export const PYTHON = '/usr/bin/python3';
/** bench/search and --scale: 512-d, as the paper's embeddings (bench/search/exact.ts: 128-d, as the serve bench). */
export const DIM = 512;
export const K = 10;
export const NOISE = 1.0;
