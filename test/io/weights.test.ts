// loadWeights picks the reader from the file's first bytes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { saveSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { loadWeights } from '../../src/io/weights.js';
import { scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { assertFormatError, assertRecord, expectedFor, fixture } from './expected.js';

const tmp = mkdtempSync(join(tmpdir(), 'normsoftmax-weights-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadWeights', () => {
  test('a .pth zip and a .safetensors file, whatever their names', () =>
    scope(() => {
      assertRecord(loadWeights(fixture('module.pth')), expectedFor('module.pth'), 'module.pth');
      assertRecord(loadWeights(fixture('dtypes.safetensors')), expectedFor('dtypes.safetensors'), 'safetensors');
    }));

  test('a safetensors file whose header length starts with byte 0x80 (a pickle opcode)', () =>
    scope(() => {
      const path = join(tmp, 'w.safetensors');
      let pad = '';
      while (serializeSafetensors({ w: tensor([1, 2]) }, { pad })[0] !== 0x80) pad += 'x';
      saveSafetensors(path, { w: tensor([1, 2]) }, { pad });
      assert.deepEqual((loadWeights(path).w as Tensor).toArray(), [1, 2]);
    }));

  test('.npy, text, empty and missing files each get one line', () => {
    assertFormatError(() => loadWeights(fixture('f4.npy')), 'is a .npy array, not a weights file');
    const text = join(tmp, 'notes.pth');
    writeFileSync(text, 'these are not weights');
    assertFormatError(() => loadWeights(text), text, 'is not a weights file: expected a PyTorch .pth');
    const empty = join(tmp, 'empty.safetensors');
    writeFileSync(empty, '');
    assertFormatError(() => loadWeights(empty), 'is not a weights file');
    assertFormatError(() => loadWeights(join(tmp, 'nope.pth')), 'cannot open: no such file');
    assertFormatError(() => loadWeights(tmp), 'is a directory');
    const cut = join(tmp, 'cut.safetensors');
    writeFileSync(cut, readFileSync(fixture('dtypes.safetensors')).subarray(0, 100));
    assertFormatError(() => loadWeights(cut), cut, 'header length', 'runs past the end of the file');
    const pickled = join(tmp, 'plain.pkl');
    writeFileSync(pickled, Uint8Array.of(0x80, 0x04, 0x4e, 0x2e));
    assertFormatError(() => loadWeights(pickled), 'is not a weights file');
  });
});
