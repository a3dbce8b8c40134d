// A bare weights file with --dim below the backbone's width: the projection it does not hold is drawn
// from a fixed seed, so two loads are the same model (embed, index build and query embedders agree).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadModel } from '../../src/embed/load-model.js';
import { manualSeed, noGrad, randn, scope } from '../../src/tensor/index.js';
import { writeResnetWeights } from '../helpers/weights.js';

const dir = mkdtempSync(join(tmpdir(), 'load-model-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('two loads of bare resnet18 weights with --dim 32 give the same embeddings, whatever the global seed', () => {
  const path = writeResnetWeights(join(dir, 'r18.safetensors'), 18, 3);
  const input = randn([2, 3, 32, 32]);
  const embed = (globalSeed: number): number[] => {
    manualSeed(globalSeed);
    const { model } = loadModel(path, { arch: 'resnet18', dim: 32 });
    try {
      return scope(() => noGrad(() => [...(model.forward(input).toTypedArray() as Float32Array)]));
    } finally {
      model.dispose();
    }
  };
  const a = embed(1);
  const b = embed(2);
  assert.equal(a.length, 64);
  assert.deepEqual(a, b);
  input.dispose();
});
