// exportCheckpoint: the file-level entry point the CLI (and the onnxruntime engine) use. A missing or
// malformed checkpoint is an InputError, a wrong opset a UsageError raised before anything loads, and the
// identity in the metadata is the file's.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { exportCheckpoint, sha256File } from '../../../src/embed/onnx/index.js';
import { saveSafetensors } from '../../../src/io/safetensors.js';
import { createEmbedder } from '../../../src/nn/embedder.js';
import { Generator } from '../../../src/tensor/index.js';
import { InputError, UsageError } from '../../../src/util/errors.js';
import { metadataOf } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'onnx-export-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a missing checkpoint is an InputError naming --checkpoint', () => {
  assert.throws(
    () => exportCheckpoint({ checkpoint: join(dir, 'missing.safetensors') }),
    (e: unknown) => e instanceof InputError && /--checkpoint .*missing\.safetensors/.test(e.message),
  );
});

test('a malformed weights file is an InputError', () => {
  const bad = join(dir, 'bad.safetensors');
  writeFileSync(bad, 'not a safetensors file at all');
  assert.throws(() => exportCheckpoint({ checkpoint: bad, arch: 'smallcnn' }), InputError);
});

test('a wrong opset is a UsageError even before a missing checkpoint is noticed', () => {
  assert.throws(() => exportCheckpoint({ checkpoint: join(dir, 'missing.safetensors'), opset: 8 }), UsageError);
});

test('bare weights: kind "weights", the base name and the SHA-256 of the file', () => {
  const model = createEmbedder({ arch: 'smallcnn', dim: 8, generator: new Generator(0) });
  const path = join(dir, 'tiny.safetensors');
  saveSafetensors(path, model.stateDict());
  model.dispose();
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  assert.equal(sha256File(path), sha);
  const { bytes, description } = exportCheckpoint({ checkpoint: path, arch: 'smallcnn', dim: 8 });
  const meta = metadataOf(bytes);
  assert.equal(meta.source_kind, 'weights');
  assert.equal(meta.checkpoint_name, 'tiny.safetensors');
  assert.equal(meta.checkpoint_sha256, sha);
  assert.equal(meta.dim, '8');
  assert.match(description, /bare smallcnn weights, dim 8/);
});
