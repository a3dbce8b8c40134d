// loadWeights picks the reader from the file's first bytes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadWeights } from '../../src/io/weights.js';
import { scope } from '../../src/tensor/index.js';
import { assertFormatError, assertRecord, expectedFor, fixture } from './expected.js';

const tmp = mkdtempSync(join(tmpdir(), 'normsoftmax-weights-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadWeights', () => {
  test('a .pth zip and a .safetensors file, whatever their names', () =>
    scope(() => {
      assertRecord(loadWeights(fixture('module.pth')), expectedFor('module.pth'), 'module.pth');
      assertRecord(loadWeights(fixture('dtypes.safetensors')), expectedFor('dtypes.safetensors'), 'safetensors');
    }));

  test('legacy .pth, .npy, text, empty and missing files each get one line', () => {
    assertFormatError(() => loadWeights(fixture('legacy.pth')), 'legacy torch.save format');
    assertFormatError(() => loadWeights(fixture('f4.npy')), 'is a .npy array, not a weights file');
    const text = join(tmp, 'notes.pth');
    writeFileSync(text, 'these are not weights');
    assertFormatError(() => loadWeights(text), text, 'is not a weights file: expected a PyTorch .pth');
    const empty = join(tmp, 'empty.safetensors');
    writeFileSync(empty, '');
    assertFormatError(() => loadWeights(empty), 'is not a weights file');
    assertFormatError(() => loadWeights(join(tmp, 'nope.pth')), 'cannot open: no such file');
    assertFormatError(() => loadWeights(tmp), 'is a directory');
    assert.ok(true);
  });
});
