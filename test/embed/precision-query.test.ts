// serve's query embedder at --precision bf16: the forward runs in its worker thread, where autocast must be
// switched on by that thread itself (libtorch keeps the switch per thread); the vectors are float32, unit
// length, close to fp32's and not equal to them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createQueryEmbedder } from '../../src/search/query-embedder.js';
import { sha256File } from '../../src/search/sha256.js';
import type { EmbedderIdentity } from '../../src/search/types.js';
import { onThisCpu } from '../helpers/cpu-bf16.js';
import { writeImageFolder } from '../helpers/images.js';
import { writeResnetWeights } from '../helpers/weights.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-precision-query-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The bf16 path is called directly here, so it runs bf16 on every CPU (emulated where bf16 is not native).
// Cosines measured (2026-12-07): 0.999962 and 0.999967 in oneDNN's native bf16 (AVX-512 BF16 EPYC), the same
// to 6 digits in ATen's emulation (scripts/as-avx2-cpu.sh), channels_last as this engine runs. Floor 0.995.
const NAME = onThisCpu('query vectors at bf16 (worker thread) are float32 unit vectors within bf16 error of fp32');
test(NAME, async () => {
  const folder = await writeImageFolder(join(dir, 'images'), 2, 1, { size: 64 });
  const weights = writeResnetWeights(join(dir, 'resnet18.safetensors'));
  const identity: EmbedderIdentity = {
    checkpointSha256: sha256File(weights),
    checkpointPath: weights,
    arch: 'resnet18',
    dim: 512,
    input: null,
    resize: 64,
    crop: 56,
  };
  const images = folder.paths.map((p) => new Uint8Array(readFileSync(p)));
  const vectors = async (precision: 'fp32' | 'bf16') => {
    const embedder = await createQueryEmbedder(identity, { precision });
    try {
      return await embedder.embed(images);
    } finally {
      await embedder.close();
    }
  };
  const fp32 = await vectors('fp32');
  const bf16 = await vectors('bf16');
  const cosines: number[] = [];
  for (const [i, v] of bf16.entries()) {
    assert.ok(v instanceof Float32Array);
    const norm = Math.hypot(...v);
    assert.ok(Math.abs(norm - 1) < 1e-5, `unit length (${norm})`);
    const w = fp32[i] as Float32Array;
    const cos = v.reduce((s, x, j) => s + x * (w[j] as number), 0);
    cosines.push(cos);
    assert.ok(cos > 0.995, `cosine ${cos}`);
    assert.ok(cos < 1 - 1e-7, `bf16 must differ from fp32 (autocast on in the worker): cosine ${cos}`);
  }
  console.log(`query cosines bf16 vs fp32: ${cosines.map((c) => c.toFixed(6)).join(' ')}`);
});
