// BN-Inception's Caffe input path end to end (issue 8 point 14): `normsoftmax embed --images DIR` on
// three PNGs of different sizes must write what PyTorch computes with the same weights after PIL loading,
// a 256x256 bilinear resize, a centre 224 crop, BGR channel order, 0-255 range minus the Caffe mean
// [104, 117, 128] (tools/golden/bninception.py). Two weight files: the Caffe-converted layout as bare
// backbone weights (dim 1024, no remap), and an embedder state with a 64-d remap.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadNpy } from '../../src/io/npy.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import type { Tensor } from '../../src/tensor/index.js';
import { maxAbsDiff } from '../helpers/golden.js';
import { ensureBninceptionCache } from '../nn/fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..');
// Unit-norm embeddings with entries of about 1/sqrt(dim); the image pipeline is exact for PNGs.
const TOL = 1e-5;
const cache = ensureBninceptionCache();

describe('embed with BN-Inception vs PyTorch (BGR, 0-255, Caffe mean)', { skip: cache.skip }, () => {
  const out = mkdtempSync(join(tmpdir(), 'embed-bninception-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  function embed(weights: string, dim: number, expectedKey: string): void {
    const npy = join(out, `${expectedKey}.npy`);
    const r = spawnSync(
      process.execPath,
      [
        'bin/normsoftmax.mjs',
        'embed',
        '--checkpoint',
        join(cache.dir, weights),
        '--arch',
        'bninception',
        '--dim',
        String(dim),
        '--images',
        join(cache.dir, 'images'),
        '--out',
        npy,
      ],
      { encoding: 'utf8', cwd: ROOT },
    );
    assert.equal(r.status, 0, r.stderr);
    const sidecar = JSON.parse(readFileSync(npy.replace(/\.npy$/, '.json'), 'utf8')) as { paths: string[] };
    assert.deepEqual(
      sidecar.paths.map((p) => basename(p)),
      ['img0.png', 'img1.png', 'img2.png'],
    );
    const want = loadSafetensors(join(cache.dir, 'expected.safetensors')).tensors;
    const got = loadNpy(npy);
    try {
      const expected = want[expectedKey] as Tensor;
      assert.deepEqual(got.shape, [3, dim]);
      const d = maxAbsDiff(got, expected);
      assert.ok(d < TOL, `${weights}: max abs difference ${d}`);
    } finally {
      got.dispose();
      for (const t of Object.values(want)) t.dispose();
    }
  }

  test('Caffe-converted bare weights, dim 1024 (no remap)', () => {
    embed('weights_caffe.safetensors', 1024, 'embed1024');
  });

  test('embedder state (backbone.* and remap.weight), dim 64', () => {
    embed('embedder64.safetensors', 64, 'embed64');
  });
});
